"""The change charges in flight (``change_charges``): each the provider request a change sent,
under its idempotency key, and the instant the change was planned at
(``seatledger.services.subscriptions.changes``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.payments import ChangeCharge, PaymentRequest

_charges = t.change_charges


class ChangeCharges:
    """The change charges of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def of(self, subscription_id: str) -> list[ChangeCharge]:
        """The subscription's charges in flight, oldest first."""
        rows = await self._connection.execute(
            select(_charges)
            .where(_charges.c.subscription_id == subscription_id)
            .order_by(_charges.c.held_at, _charges.c.idempotency_key)
        )
        return [_charge(row) for row in rows]

    async def hold(self, charge: ChangeCharge) -> None:
        """Write ``charge``, about to be sent (under a key no charge in flight has)."""
        request = charge.request
        await self._connection.execute(
            insert(_charges).values(
                subscription_id=charge.subscription_id,
                idempotency_key=request.idempotency_key,
                amount=request.amount,
                currency=request.currency,
                payment_method=request.payment_method,
                customer=request.customer,
                description=request.description,
                planned_at=charge.planned_at,
                held_at=charge.held_at,
            )
        )

    async def release(self, idempotency_key: str) -> None:
        """The charge sent under ``idempotency_key`` is settled (applied, credited, declined)."""
        await self._connection.execute(
            delete(_charges).where(_charges.c.idempotency_key == idempotency_key)
        )


def _charge(row: Row[Any]) -> ChangeCharge:
    request = PaymentRequest(
        amount=int(row.amount),
        currency=str(row.currency),
        payment_method=str(row.payment_method),
        customer=str(row.customer),
        description=str(row.description),
        idempotency_key=str(row.idempotency_key),
    )
    return ChangeCharge(str(row.subscription_id), request, row.planned_at, row.held_at)
