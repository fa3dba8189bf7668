"""Cancelling a subscription, now or at the end of its period (SPEC §3).

* Now: every seat is revoked with its benefits at once, and the subscription is ``canceled``.
* At period end: ``cancel_at_period_end`` is set; seats stay usable and assignable until the
  end, when the renewal run cancels it instead of renewing (``change_subscription`` with
  ``cancel_at_period_end=False`` undoes it before then).

Either way the pending change is dropped, the current period is not refunded, and when
proration lines or true-up rises are waiting a final invoice (``subscription_cancel``) bills
them when the cancellation takes effect (a true-up for the time its seats were held, to that
moment) — a net credit goes to the company's balance, a charge is collected
once with the saved card and otherwise stays open for a payment by hand. A canceled
subscription is never renewed; cancelling again answers it unchanged and emits nothing.

When a subscription is canceled because its grace period ran out (dunning), its unpaid renewal
invoices are voided: the period they billed was cut short. A cancellation asked for while
``past_due`` stops the retries but leaves the open invoice payable.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice
from seatledger.domain.purchase import Subscription
from seatledger.services import provider_subscriptions, seats
from seatledger.services.collection import COLLECTION_LEASE, Attempt, attempt_for, collect
from seatledger.services.invoicing import create_invoice_with_credit
from seatledger.services.purchases import get_subscription
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import subscription_of, waiting_lines
from seatledger.services.terms import TermsBook


async def end_subscription(
    uow: UnitOfWork, rt: Runtime, row: Subscription, book: TermsBook, *, void_unpaid: bool
) -> tuple[Subscription, Attempt | None]:
    """Cancel the (locked) subscription ``row`` inside ``uow``: revoke its seats, bill the
    waiting lines on a final invoice, cancel. Answers the canceled subscription and the attempt
    that collects the final invoice, if it has anything to collect (after commit)."""
    now = rt.clock.now()
    # First, under the pool's row lock: an assignment waiting for that row then finds the pool
    # closed, rather than a free seat in a subscription its snapshot still shows running.
    await uow.pools.close(row.id, now)
    for seat_id in await uow.seats.live_ids_in(row.id):
        await seats.revoke_in(uow, rt, seat_id, follow_members=False)

    invoice = await _final_invoice(uow, row, book, now)
    if void_unpaid:
        await _void_unpaid(uow, row.id)

    lease = now + COLLECTION_LEASE if invoice is not None and invoice.status == "open" else None
    updated = await uow.subscriptions.update(
        row.id,
        status="canceled",
        canceled_at=now,
        pending_change=None,
        past_due_since=None,
        payment_attempts=0,
        next_payment_attempt_at=lease,
    )
    uow.emit(EventType.SUBSCRIPTION_CANCELED, updated)
    attempt = None if lease is None or invoice is None else attempt_for(updated, invoice, lease)
    return updated, attempt


async def _final_invoice(
    uow: UnitOfWork, row: Subscription, book: TermsBook, now: datetime
) -> Invoice | None:
    """The waiting lines billed on a final invoice (the balance paying what it can); None when
    nothing waits."""
    # A true-up bills its seats for the time they were held: to now when cancelled now.
    waiting = (await waiting_lines(uow, [row.id], until=now))[row.id]
    if not waiting:
        return None
    terms = await book.get(uow, row.price_id)
    assert terms is not None
    invoice = await create_invoice_with_credit(
        uow,
        now=now,
        company_id=row.company_id,
        subscription_id=row.id,
        currency=terms.price.currency,
        lines=waiting,
        reason="subscription_cancel",
        period_start=row.current_period_start,
        period_end=now,
    )
    await uow.pending_lines.take([(row.id, invoice.id)])
    await uow.true_ups.take([(row.id, invoice.id)])
    return invoice


async def _void_unpaid(uow: UnitOfWork, subscription_id: str) -> None:
    """Void the subscription's open renewal invoices (nothing will collect them now)."""
    for voided in await uow.invoices.void_open_renewals(subscription_id):
        uow.emit("invoice.voided", voided)


async def cancel_subscription(
    rt: Runtime, subscription_id: str, *, at_period_end: bool, scope_company_id: str | None = None
) -> Subscription:
    """Cancel now or at the end of the period (rules in the module docstring)."""
    if not isinstance(at_period_end, bool):
        raise ValidationFailed.field("at_period_end", "must be true or false")
    if await provider_subscriptions.is_billed(rt, subscription_id):
        await _cancel_in_provider(rt, subscription_id, at_period_end, scope_company_id)
    async with rt.transaction() as uow:
        row = await subscription_of(uow, subscription_id, scope_company_id, lock=True)
        if row.status == "canceled" or (at_period_end and row.cancel_at_period_end):
            return row
        if at_period_end:
            updated = await uow.subscriptions.update(
                row.id, cancel_at_period_end=True, pending_change=None
            )
            uow.emit(EventType.SUBSCRIPTION_UPDATED, updated)
            await uow.commit()
            return updated
        updated, attempt = await end_subscription(uow, rt, row, TermsBook(), void_unpaid=False)
        await uow.commit()
    if attempt is None:
        return updated
    # A provider error leaves the attempt to its lease: the next renewal run retries it.
    with contextlib.suppress(Exception):
        await collect(rt, [attempt])
    return await get_subscription(rt, updated.id)


async def _cancel_in_provider(
    rt: Runtime, subscription_id: str, at_period_end: bool, scope_company_id: str | None
) -> None:
    """``billing`` mode: the provider cancels first (it bills the subscription); a canceled
    subscription here is left as it is."""
    async with rt.reading() as uow:
        row = await subscription_of(uow, subscription_id, scope_company_id, lock=False)
    if row.status != "canceled":
        await provider_subscriptions.cancel_billed(rt, row.id, at_period_end=at_period_end)


__all__ = ["cancel_subscription", "end_subscription"]
