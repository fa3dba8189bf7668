"""Proration lines waiting for a subscription's next invoice (``pending_lines``): written by a
change that bills later, taken into the invoice that bills them (their ``invoice_id`` set)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.invoice import InvoiceLine

_lines = t.pending_lines
_take = (
    update(_lines)
    .where(
        _lines.c.subscription_id == bindparam("b_subscription_id"), _lines.c.invoice_id.is_(None)
    )
    .values(invoice_id=bindparam("b_invoice_id"))
)


class PendingLines:
    """The waiting lines of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def waiting(self, subscription_ids: Sequence[str]) -> dict[str, list[InvoiceLine]]:
        """Lines not yet on an invoice, per subscription, in the order they were made."""
        waiting: dict[str, list[InvoiceLine]] = {sub_id: [] for sub_id in subscription_ids}
        if not subscription_ids:
            return waiting
        rows = await self._connection.execute(
            select(_lines)
            .where(
                _lines.c.subscription_id.in_(list(subscription_ids)), _lines.c.invoice_id.is_(None)
            )
            .order_by(_lines.c.id)
        )
        for row in rows:
            waiting[row.subscription_id].append(
                InvoiceLine(
                    kind=row.kind,
                    description=row.description,
                    quantity=row.quantity,
                    unit_amount=row.unit_amount,
                    amount=row.amount,
                    period_start=row.period_start,
                    period_end=row.period_end,
                )
            )
        return waiting

    async def drop_waiting(self, subscription_id: str) -> None:
        """The subscription's lines not yet on an invoice, dropped: a provider that bills the
        subscription bills its own prorations (``billing`` mode), so none is left for
        seatledger to invoice (members-mode changes leave them, as they would in seatledger's
        own billing)."""
        await self._connection.execute(
            delete(_lines).where(
                _lines.c.subscription_id == subscription_id, _lines.c.invoice_id.is_(None)
            )
        )

    async def add(
        self, subscription_id: str, lines: Sequence[InvoiceLine], currency: str, now: datetime
    ) -> None:
        """``lines`` of the subscription, waiting for its next invoice."""
        await self._connection.execute(
            insert(_lines),
            [
                {
                    "subscription_id": subscription_id,
                    "kind": line.kind,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unit_amount": line.unit_amount,
                    "amount": line.amount,
                    "currency": currency,
                    "period_start": line.period_start,
                    "period_end": line.period_end,
                    "created_at": now,
                }
                for line in lines
            ],
        )

    async def take(self, invoiced: Sequence[tuple[str, str]]) -> None:
        """Each ``(subscription_id, invoice_id)``: the subscription's waiting lines go onto
        the invoice (one batch)."""
        if invoiced:
            await self._connection.execute(
                _take,
                [{"b_subscription_id": sub, "b_invoice_id": inv} for sub, inv in invoiced],
            )


__all__ = ["PendingLines"]
