"""Where a subscription stands: the subscription (locked or not), its waiting lines, its terms, and
the terms a change asks for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import Standing, Terms
from seatledger.domain.catalog import PRORATION_BEHAVIORS, ProrationBehavior
from seatledger.domain.errors import (
    NotFound,
    ValidationFailed,
)
from seatledger.domain.invoice import InvoiceLine, invoice_lines
from seatledger.domain.purchase import Subscription
from seatledger.domain.true_up import TrueUp
from seatledger.pricing import Period, true_up_line
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
    uow: UnitOfWork, subscription_ids: list[str], *, until: datetime | None = None
) -> dict[str, list[InvoiceLine]]:
    """Lines not yet on an invoice, per subscription: the proration lines in the order they were
    made, then the true-up of the seat-count rises not billed yet, each priced from the
    database for the time held (to its period's end, or to ``until``, an earlier end)."""
    waiting = await uow.pending_lines.waiting(subscription_ids)
    rises = await uow.true_ups.unbilled(subscription_ids)
    for subscription_id, lines in true_up_lines_of(
        await uow.catalog.terms(sorted({r.price_id for found in rises.values() for r in found})),
        rises,
        until,
    ).items():
        waiting[subscription_id].extend(lines)
    return waiting


def true_up_lines_of(
    terms: Mapping[str, Terms],
    rises: Mapping[str, Sequence[TrueUp]],
    until: datetime | None = None,
) -> dict[str, list[InvoiceLine]]:
    """The true-up lines of each subscription's rises (``seatledger.pricing.true_up``)."""
    lines: dict[str, list[InvoiceLine]] = {}
    for subscription_id, found in rises.items():
        lines[subscription_id] = []
        for rise in found:
            end = rise.period.end if until is None else min(until, rise.period.end)
            line = true_up_line(terms[rise.price_id].price, rise.period, rise.step, end)
            lines[subscription_id] += invoice_lines(
                [line], period_start=rise.step.at, period_end=max(end, rise.step.at)
            )
    return lines


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
            "proration_behavior", "must be 'invoice', 'prorate', 'next_period' or 'true_up'"
        )
    return value  # type: ignore[return-value]


__all__ = [
    "change_target",
    "load_standing",
    "proration_behavior_of",
    "subscription_of",
    "true_up_lines_of",
    "waiting_lines",
]
