"""Where a subscription stands: its row (locked or not), its waiting lines, its terms, and
the terms a change asks for."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.purchases import subscription_from_row
from seatledger.adapters.db.seat_pools import SUBSCRIPTION_COLUMNS, lock_subscription
from seatledger.domain.billing import Standing, Terms
from seatledger.domain.catalog import PRORATION_BEHAVIORS, ProrationBehavior
from seatledger.domain.errors import (
    NotFound,
    ValidationFailed,
)
from seatledger.domain.invoice import InvoiceLine
from seatledger.pricing import Period
from seatledger.services.credit import read_balances
from seatledger.services.terms import TermsBook


async def subscription_row(
    connection: AsyncConnection,
    subscription_id: object,
    scope_company_id: str | None,
    *,
    lock: bool,
) -> Any:
    """The subscription's row (locked for this transaction when ``lock``), else NotFound."""
    if isinstance(subscription_id, str):
        condition = t.subscriptions.c.id == subscription_id
        if scope_company_id is not None:
            condition = and_(condition, t.subscriptions.c.company_id == scope_company_id)
        if lock:
            row = await lock_subscription(connection, condition)
        else:
            row = (await connection.execute(select(*SUBSCRIPTION_COLUMNS).where(condition))).first()
        if row is not None:
            return row
    raise NotFound("subscription")


def line_from_pending(row: Any) -> InvoiceLine:
    return InvoiceLine(
        kind=row.kind,
        description=row.description,
        quantity=row.quantity,
        unit_amount=row.unit_amount,
        amount=row.amount,
        period_start=row.period_start,
        period_end=row.period_end,
    )


async def waiting_lines(
    connection: AsyncConnection, subscription_ids: list[str]
) -> dict[str, list[InvoiceLine]]:
    """Proration lines not yet on an invoice, per subscription, in the order they were made."""
    waiting: dict[str, list[InvoiceLine]] = {sub_id: [] for sub_id in subscription_ids}
    if not subscription_ids:
        return waiting
    rows = await connection.execute(
        select(t.pending_lines)
        .where(
            t.pending_lines.c.subscription_id.in_(subscription_ids),
            t.pending_lines.c.invoice_id.is_(None),
        )
        .order_by(t.pending_lines.c.id)
    )
    for row in rows:
        waiting[row.subscription_id].append(line_from_pending(row))
    return waiting


async def load_standing(
    connection: AsyncConnection,
    row: Any,
    book: TermsBook,
    *,
    lock: bool,
    cancel_at_period_end: bool | None = None,
) -> Standing:
    terms = await book.get(connection, row.price_id)
    if terms is None:  # pragma: no cover - a foreign key stands behind it
        raise NotFound("price")
    waiting = (await waiting_lines(connection, [row.id]))[row.id]
    balance = 0
    if row.company_id is not None:
        key = (row.company_id, terms.price.currency)
        balance = (await read_balances(connection, [key], lock=lock))[key]
    return Standing(
        status=row.status,
        cancel_at_period_end=bool(
            row.cancel_at_period_end if cancel_at_period_end is None else cancel_at_period_end
        ),
        has_company=row.company_id is not None,
        seats=row.seats,
        assigned=row.assigned_seats,
        terms=terms,
        period=Period(row.current_period_start, row.current_period_end),
        pending_change=subscription_from_row(row).pending_change,
        waiting=tuple(waiting),
        balance=balance,
    )


async def change_target(
    connection: AsyncConnection, book: TermsBook, price_id: object
) -> Terms | None:
    if price_id is None:
        return None
    terms = await book.get(connection, price_id) if isinstance(price_id, str) else None
    if terms is None:
        raise NotFound("price", field="price_id")
    return terms


def proration_behavior_of(value: object) -> ProrationBehavior | None:
    if value is None:
        return None
    if value not in PRORATION_BEHAVIORS:
        raise ValidationFailed.field(
            "proration_behavior", "must be 'invoice', 'prorate' or 'next_period'"
        )
    return value  # type: ignore[return-value]


__all__ = [
    "change_target",
    "line_from_pending",
    "load_standing",
    "proration_behavior_of",
    "subscription_row",
    "waiting_lines",
]
