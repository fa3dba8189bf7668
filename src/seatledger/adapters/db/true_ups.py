"""Seat-count rises under true-up (``true_ups``): recorded by the change, taken into the
invoice that bills them (``invoice_id`` set in that invoice's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.true_up import TrueUp
from seatledger.pricing import Period, SeatStep

_rows = t.true_ups
_quarterly = and_(_rows.c.invoice_id.is_(None), _rows.c.bill_at < _rows.c.period_end)


class TrueUps:
    """The true-up rises of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, rise: TrueUp, now: datetime) -> None:
        await self._connection.execute(
            insert(_rows).values(
                subscription_id=rise.subscription_id,
                price_id=rise.price_id,
                period_start=rise.period.start,
                period_end=rise.period.end,
                changed_at=rise.step.at,
                seats_before=rise.step.before,
                seats_after=rise.step.after,
                bill_at=rise.bill_at,
                created_at=now,
            )
        )

    async def unbilled(
        self, subscription_ids: Sequence[str], *, due_by: datetime | None = None
    ) -> dict[str, list[TrueUp]]:
        """Rises not yet on an invoice, per subscription, in time order; with ``due_by``, only
        the quarterly ones billed by then."""
        found: dict[str, list[TrueUp]] = {sub_id: [] for sub_id in subscription_ids}
        if not subscription_ids:
            return found
        query = select(_rows).where(
            _rows.c.subscription_id.in_(list(subscription_ids)), _rows.c.invoice_id.is_(None)
        )
        if due_by is not None:
            query = query.where(_quarterly, _rows.c.bill_at <= due_by)
        for row in await self._connection.execute(query.order_by(_rows.c.changed_at, _rows.c.id)):
            found[row.subscription_id].append(
                TrueUp(
                    subscription_id=row.subscription_id,
                    price_id=row.price_id,
                    period=Period(row.period_start, row.period_end),
                    step=SeatStep(row.changed_at, row.seats_before, row.seats_after),
                    bill_at=row.bill_at,
                )
            )
        return found

    async def take(
        self, invoiced: Sequence[tuple[str, str]], *, due_by: datetime | None = None
    ) -> None:
        """Each ``(subscription_id, invoice_id)``: the subscription's unbilled rises (with
        ``due_by``, the quarterly ones billed by then) go onto the invoice."""
        if not invoiced:
            return
        condition = and_(
            _rows.c.subscription_id == bindparam("b_subscription_id"),
            _rows.c.invoice_id.is_(None),
        )
        if due_by is not None:
            condition = and_(condition, _quarterly, _rows.c.bill_at <= due_by)
        await self._connection.execute(
            update(_rows).where(condition).values(invoice_id=bindparam("b_invoice_id")),
            [{"b_subscription_id": sub, "b_invoice_id": inv} for sub, inv in invoiced],
        )

    async def earliest_quarter(self) -> datetime | None:
        """The earliest quarter end with rises to bill (None when there is none)."""
        return (  # type: ignore[no-any-return]
            await self._connection.execute(select(func.min(_rows.c.bill_at)).where(_quarterly))
        ).scalar_one()

    async def quarters_due(self, now: datetime, limit: int) -> list[str]:
        """Subscriptions with quarterly rises to bill by ``now``, earliest first."""
        rows = await self._connection.execute(
            select(_rows.c.subscription_id, func.min(_rows.c.bill_at).label("due"))
            .where(_quarterly, _rows.c.bill_at <= now)
            .group_by(_rows.c.subscription_id)
            .order_by("due", _rows.c.subscription_id)
            .limit(limit)
        )
        return [row.subscription_id for row in rows]


__all__ = ["TrueUps"]
