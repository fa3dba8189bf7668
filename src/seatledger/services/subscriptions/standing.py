"""Where a subscription stands: the subscription (locked or not), its waiting lines, its terms, and
the terms a change asks for."""

from __future__ import annotations

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import Standing, Terms
from seatledger.domain.catalog import PRORATION_BEHAVIORS, ProrationBehavior
from seatledger.domain.errors import (
    NotFound,
    ValidationFailed,
)
from seatledger.domain.invoice import InvoiceLine
from seatledger.domain.purchase import Subscription
from seatledger.pricing import Period
from seatledger.services.credit import read_balances
from seatledger.services.terms import TermsBook


async def subscription_of(
    uow: UnitOfWork,
    subscription_id: object,
    scope_company_id: str | None,
    *,
    lock: bool,
) -> Subscription:
    """The subscription (locked for this transaction when ``lock``), else NotFound."""
    if isinstance(subscription_id, str):
        found = await uow.subscriptions.find(
            subscription_id, scope_company_id=scope_company_id, lock=lock
        )
        if found is not None:
            return found
    raise NotFound("subscription")


async def waiting_lines(
    uow: UnitOfWork, subscription_ids: list[str]
) -> dict[str, list[InvoiceLine]]:
    """Proration lines not yet on an invoice, per subscription, in the order they were made."""
    return await uow.pending_lines.waiting(subscription_ids)


async def load_standing(
    uow: UnitOfWork,
    row: Subscription,
    book: TermsBook,
    *,
    lock: bool,
    cancel_at_period_end: bool | None = None,
) -> Standing:
    terms = await book.get(uow, row.price_id)
    if terms is None:  # pragma: no cover - a foreign key stands behind it
        raise NotFound("price")
    waiting = (await waiting_lines(uow, [row.id]))[row.id]
    balance = 0
    if row.company_id is not None:
        key = (row.company_id, terms.price.currency)
        balance = (await read_balances(uow, [key], lock=lock))[key]
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
        pending_change=row.pending_change,
        waiting=tuple(waiting),
        balance=balance,
    )


async def change_target(uow: UnitOfWork, book: TermsBook, price_id: object) -> Terms | None:
    if price_id is None:
        return None
    terms = await book.get(uow, price_id) if isinstance(price_id, str) else None
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
    "load_standing",
    "proration_behavior_of",
    "subscription_of",
    "waiting_lines",
]
