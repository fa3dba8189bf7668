"""Renewing a batch of due subscriptions in one transaction (``seatledger.services.renewals``
picks and locks them): each one's renewal planned (``seatledger.domain.renewal.plan_renewal``), a
company's credit balance carried from one of its renewals to the next, then every write done
in a few statements for the whole batch: the invoices, the waiting lines (proration lines and
the period's true-up) taken into them, the pools resized, the periods advanced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from seatledger import faults
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import Terms
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice, InvoiceLine
from seatledger.domain.purchase import Subscription
from seatledger.domain.renewal import Renewal, plan_renewal
from seatledger.pricing import Period
from seatledger.services.benefit_sync import resync_benefits
from seatledger.services.collection import Attempt, attempt_for
from seatledger.services.credit import add_to_balances, read_balances
from seatledger.services.invoicing import InvoiceDraft, create_invoices
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import waiting_lines
from seatledger.services.terms import TermsBook


async def renew_batch(
    uow: UnitOfWork,
    rt: Runtime,
    now: datetime,
    book: TermsBook,
    subscriptions: list[Subscription],
    lease: datetime,
) -> list[Attempt]:
    """Renew ``subscriptions`` (locked, due) in one go; answers the attempts that collect
    them."""
    if not subscriptions:
        return []
    terms = await book.load(
        uow,
        {s.price_id for s in subscriptions}
        | {s.pending_change.price_id for s in subscriptions if s.pending_change},
    )
    waiting = await waiting_lines(uow, [s.id for s in subscriptions])
    balances = await read_balances(
        uow,
        [(s.company_id, terms[s.price_id].price.currency) for s in subscriptions if s.company_id],
    )
    plans, deltas = _plan_all(subscriptions, terms, waiting, balances)
    invoices = await create_invoices(uow, _drafts(subscriptions, plans, terms), now=now)
    faults.reached("renewal_invoiced")
    await _advance_all(uow, subscriptions, plans, invoices, waiting, lease)
    await add_to_balances(uow, deltas)
    # A trial's end is its first renewal: the charged period begins, the subscription is active
    # (a declined charge makes it past due, as any renewal's does).
    await uow.subscriptions.end_trials([s.id for s in subscriptions if s.status == "trialing"])

    attempts: list[Attempt] = []
    for s, plan, invoice in zip(subscriptions, plans, invoices, strict=True):
        if terms[plan.price_id].product_id != terms[s.price_id].product_id:
            await resync_benefits(
                uow, rt, subscription_id=s.id, product_id=terms[plan.price_id].product_id
            )
        renewed = replace(
            s,
            seats=plan.seats,
            price_id=plan.price_id,
            billing_anchor=plan.anchor,
            current_period_start=plan.period.start,
            current_period_end=plan.period.end,
            pending_change=None,
            status="active" if s.status == "trialing" else s.status,
        )
        uow.emit(EventType.SUBSCRIPTION_RENEWED, renewed)
        if plan.total > 0:
            attempts.append(attempt_for(s, invoice, lease))
    return attempts


def _plan_all(
    subscriptions: list[Subscription],
    terms: Mapping[str, Terms],
    waiting: Mapping[str, Sequence[InvoiceLine]],
    balances: dict[tuple[str, str], int],
) -> tuple[list[Renewal], dict[tuple[str, str], int]]:
    """Each subscription's renewal, in order, with the balances moved by them: a company's
    balance carries from one of its renewals to the next (``balances`` is updated)."""
    plans: list[Renewal] = []
    deltas: dict[tuple[str, str], int] = {}
    for subscription in subscriptions:
        price = terms[subscription.price_id].price
        key = (subscription.company_id or "", price.currency)
        pending = subscription.pending_change
        before = balances.get(key, 0)
        plan = plan_renewal(
            seats=subscription.seats,
            assigned=subscription.assigned_seats,
            price_id=subscription.price_id,
            price=price,
            anchor=subscription.billing_anchor,
            period=Period(subscription.current_period_start, subscription.current_period_end),
            pending=pending,
            pending_price=None if pending is None else terms[pending.price_id].price,
            waiting=waiting[subscription.id],
            balance=before,
        )
        if subscription.company_id is not None and plan.balance_after != before:
            balances[key] = plan.balance_after
            deltas[key] = deltas.get(key, 0) + plan.balance_after - before
        plans.append(plan)
    return plans, deltas


def _drafts(
    subscriptions: list[Subscription], plans: list[Renewal], terms: Mapping[str, Terms]
) -> list[InvoiceDraft]:
    """The renewals' invoices: open when there is something to collect, else paid."""
    return [
        InvoiceDraft(
            company_id=s.company_id,
            subscription_id=s.id,
            currency=terms[plan.price_id].price.currency,
            lines=plan.lines,
            status="open" if plan.total > 0 else "paid",
            reason="subscription_cycle",
            period_start=plan.period.start,
            period_end=plan.period.end,
            credit_applied=plan.credit_applied,
        )
        for s, plan in zip(subscriptions, plans, strict=True)
    ]


async def _advance_all(
    uow: UnitOfWork,
    subscriptions: list[Subscription],
    plans: list[Renewal],
    invoices: list[Invoice],
    waiting: Mapping[str, Sequence[InvoiceLine]],
    lease: datetime,
) -> None:
    """The waiting lines into their invoices, the pools resized, the subscriptions moved to
    their new periods (the ones with something to collect leased to this run)."""
    taken = [
        (s.id, invoice.id)
        for s, invoice in zip(subscriptions, invoices, strict=True)
        if waiting[s.id]
    ]
    await uow.pending_lines.take(taken)
    await uow.true_ups.take(taken)
    await uow.pools.renew_sizes(
        [(s.id, plan.seats) for s, plan in zip(subscriptions, plans, strict=True)]
    )
    await uow.subscriptions.advance(
        [
            replace(
                s,
                price_id=plan.price_id,
                billing_anchor=plan.anchor,
                current_period_start=plan.period.start,
                current_period_end=plan.period.end,
                next_payment_attempt_at=lease if plan.total > 0 else s.next_payment_attempt_at,
            )
            for s, plan in zip(subscriptions, plans, strict=True)
        ]
    )


__all__ = ["renew_batch"]
