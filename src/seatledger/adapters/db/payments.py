"""Payments in the database (``payments``): what was taken or declined, written as
``PaymentRecord`` values (``seatledger.domain.payment_record``), many in one batch
(``seatledger.adapters.db.bulk``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.bulk import insert_rows
from seatledger.domain.payment_record import PaymentRecord

_payments = t.payments


class Payments:
    """The payments of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, records: Sequence[PaymentRecord]) -> None:
        await insert_rows(self._connection, _payments, [asdict(record) for record in records])

    async def recorded(self, references: Sequence[str]) -> set[str]:
        """The provider references among ``references`` already recorded."""
        if not references:
            return set()
        rows = await self._connection.execute(
            select(_payments.c.provider_reference).where(
                _payments.c.provider_reference.in_(list(references))
            )
        )
        return {str(row.provider_reference) for row in rows}

    async def attempts_of(self, reference: str) -> list[tuple[str, str, str]]:
        """``(invoice id, status, payment method)`` of every invoice payment recorded under the
        provider's ``reference``, oldest first."""
        rows = await self._connection.execute(
            select(_payments.c.invoice_id, _payments.c.status, _payments.c.payment_method)
            .where(_payments.c.provider_reference == reference, _payments.c.invoice_id.is_not(None))
            .order_by(_payments.c.created_at)
        )
        return [(str(r.invoice_id), str(r.status), str(r.payment_method)) for r in rows]

    async def taken(self, reference: str) -> bool:
        """Whether a payment taken under the provider's ``reference`` is recorded."""
        row = await self._connection.execute(
            select(_payments.c.id)
            .where(_payments.c.provider_reference == reference, _payments.c.status == "succeeded")
            .limit(1)
        )
        return row.first() is not None

    async def checkout_of(self, reference: str) -> tuple[str, str] | None:
        """``(checkout id, payment method)`` of the checkout charge recorded under the
        provider's ``reference`` (one that waited for the buyer), if any."""
        row = (
            await self._connection.execute(
                select(_payments.c.checkout_id, _payments.c.payment_method)
                .where(
                    _payments.c.provider_reference == reference,
                    _payments.c.invoice_id.is_(None),
                    _payments.c.checkout_id.is_not(None),
                )
                .order_by(_payments.c.created_at)
                .limit(1)
            )
        ).first()
        return None if row is None else (str(row.checkout_id), str(row.payment_method))

    async def count_for(self, invoice_id: str) -> int:
        """How many payments (taken or declined) the invoice has seen."""
        count = await self._connection.execute(
            select(func.count()).select_from(_payments).where(_payments.c.invoice_id == invoice_id)
        )
        return int(count.scalar_one())

    async def last_failure(self, invoice_id: str) -> str | None:
        """The reason the invoice's latest declined payment gave, if any."""
        reason = await self._connection.execute(
            select(_payments.c.failure_reason)
            .where(_payments.c.invoice_id == invoice_id, _payments.c.failure_reason.is_not(None))
            .order_by(_payments.c.created_at.desc(), _payments.c.id.desc())
            .limit(1)
        )
        found = reason.scalar()
        return None if found is None else str(found)


__all__ = ["Payments"]
