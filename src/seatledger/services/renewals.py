"""Renewals, payment retries and grace-period cancellations that fall due (SPEC §3).

``renew_due`` is what moving the sandbox clock runs, and ``run_due`` (the same, answering how
many renewals, retries, cancellations and declines it made) what the worker runs: everything
due at ``rt.clock.now()``, earliest first, until nothing is due. A subscription is due when

* its period has ended (``current_period_end <= now``, not canceled): it renews — or, when it
  cancels at period end, it is canceled instead (``seatledger.services.cancellation``);
* its ``next_payment_attempt_at`` has come: a payment retry, or, once every retry failed, the
  end of the grace period (canceled, seats revoked, the unpaid invoice voided). The same column
  holds the lease of an attempt in flight (``seatledger.services.collection``), so an attempt
  that a crash interrupted comes due again when its lease expires.

Exactly once. A run takes due rows with ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
has one writer at a time), re-checked under the lock, so concurrent runs — in one process or
many — share the work without overlap; the unique index on ``(subscription_id, period_start)``
of renewal invoices stands behind it. A period that has passed several boundaries renews once
per boundary, each in turn.

Batches. Renewals are written in batches (``BATCH_SIZE``): one transaction numbers, inserts and
advances a whole batch with a handful of statements, the payments are then taken with no
transaction open, and one more transaction records their outcomes. Items are processed in due
order; a batch stops before a cancellation (which runs alone) and before anything due later than
a period that a renewal of the batch just opened and that is itself already due, so effects
that share a company's credit balance happen in time order. Should a batch fail, its items are
retried one at a time, so that one broken subscription holds up no other; the first error is
raised once everything else is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.invoices import invoice_from_row
from seatledger.adapters.db.purchases import subscription_from_row
from seatledger.adapters.db.seat_pools import due_subscriptions
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import Terms
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice, InvoiceLine
from seatledger.domain.purchase import Subscription
from seatledger.domain.renewal import Renewal, grace_expired, plan_renewal
from seatledger.pricing import Period
from seatledger.services.benefit_sync import resync_benefits
from seatledger.services.cancellation import end_subscription
from seatledger.services.collection import COLLECTION_LEASE, Attempt, attempt_for, collect
from seatledger.services.credit import add_to_balances, read_balances
from seatledger.services.invoicing import InvoiceDraft, create_invoices
from seatledger.services.runtime import Runtime
from seatledger.services.sandbox_clock import follow_sandbox_clock
from seatledger.services.subscriptions import waiting_lines
from seatledger.services.terms import TermsBook

BATCH_SIZE = 1000
SHORTEST_PERIOD = timedelta(days=28)

Kind = Literal["renew", "collect", "cancel_at_period_end", "cancel_after_grace"]

_subs = t.subscriptions


@dataclass(frozen=True, slots=True)
class _Due:
    row: Any
    kind: Kind
    due: datetime


def _classify(row: Any, now: datetime) -> _Due:
    attempt_due = row.next_payment_attempt_at is not None and row.next_payment_attempt_at <= now
    period_due = row.status != "canceled" and row.current_period_end <= now
    if attempt_due and (not period_due or row.next_payment_attempt_at <= row.current_period_end):
        if row.status != "canceled" and grace_expired(row.payment_attempts):
            return _Due(row, "cancel_after_grace", row.next_payment_attempt_at)
        return _Due(row, "collect", row.next_payment_attempt_at)
    kind: Kind = "cancel_at_period_end" if row.cancel_at_period_end else "renew"
    return _Due(row, kind, row.current_period_end)


async def _due_rows(
    connection: AsyncConnection, now: datetime, limit: int, excluded: set[str]
) -> list[_Due]:
    """The ``limit`` earliest due items, locked (rows another run holds are skipped). Two
    index-ordered scans — periods that ended, attempts that came due — merged here."""
    found: dict[str, Any] = {}
    for condition, order in (
        (
            and_(_subs.c.status != "canceled", _subs.c.current_period_end <= now),
            _subs.c.current_period_end,
        ),
        (_subs.c.next_payment_attempt_at <= now, _subs.c.next_payment_attempt_at),
    ):
        query = due_subscriptions().where(condition).order_by(order, _subs.c.id).limit(limit)
        if excluded:
            query = query.where(_subs.c.id.not_in(sorted(excluded)))
        for row in await connection.execute(query):
            found[row.id] = row
    items = sorted((_classify(row, now) for row in found.values()), key=lambda d: (d.due, d.row.id))
    return items[:limit]


class _PassFailed(Exception):
    def __init__(self, ids: list[str], error: BaseException) -> None:
        super().__init__(str(error))
        self.ids = ids
        self.error = error


@dataclass
class _Pass:
    renewed: list[str]
    attempts: list[Attempt]
    retried: int = 0
    canceled: list[str] = field(default_factory=list)


@dataclass
class DueRun:
    """What a run of everything due did."""

    renewed: list[str] = field(default_factory=list)  # once per renewal, in order
    retried: int = 0  # payment retries of open invoices
    canceled: list[str] = field(default_factory=list)  # at period end or after the grace period
    declined: int = 0  # payments the provider declined (renewals, retries, final invoices)

    @property
    def nothing_done(self) -> bool:
        return not (self.renewed or self.retried or self.canceled)


async def renew_due(rt: Runtime, *, batch_size: int = BATCH_SIZE) -> list[str]:
    """Run everything due now (module docstring); answers the ids of the subscriptions renewed,
    once per renewal, in the order they renewed."""
    return (await run_due(rt, batch_size=batch_size)).renewed


async def run_due(rt: Runtime, *, batch_size: int = BATCH_SIZE) -> DueRun:
    """Run everything due now, as ``renew_due`` does; answers what was done."""
    await follow_sandbox_clock(rt)
    now = rt.clock.now()
    book = TermsBook()
    report = DueRun()
    errors: list[BaseException] = []
    excluded: set[str] = set()
    alone = 0  # passes left to run one item at a time, after a batch failed
    while True:
        try:
            done = await _run_pass(rt, now, book, 1 if alone else batch_size, excluded)
        except _PassFailed as failure:
            if not alone and len(failure.ids) > 1:
                alone = len(failure.ids)  # find the one that fails; the others go through
                continue
            excluded.update(failure.ids)
            errors.append(failure.error)
            alone = max(0, alone - 1)
            continue
        if done is None:
            break
        alone = max(0, alone - 1)
        report.renewed += done.renewed
        report.retried += done.retried
        report.canceled += done.canceled
        try:
            results = await collect(rt, done.attempts)
        except Exception as error:
            # The provider failed (not declined): those attempts wait for their lease to expire.
            errors.append(error)
        else:
            report.declined += sum(not r.succeeded for r in results)
    if errors:
        raise errors[0]
    return report


def _take(items: list[_Due], now: datetime) -> list[_Due]:
    """The items of one pass, in due order: a lone cancellation, or renewals and retries up to
    the first one due later than a period a renewal of this pass opens and that is due too."""
    if items[0].kind in ("cancel_at_period_end", "cancel_after_grace"):
        return items[:1]
    taken: list[_Due] = []
    horizon: datetime | None = None
    for item in items:
        if item.kind in ("cancel_at_period_end", "cancel_after_grace"):
            break
        if horizon is not None and item.due > horizon:
            break
        taken.append(item)
        if item.kind == "renew":
            # The period it opens ends 28 days after this one at the earliest.
            nearest = item.row.current_period_end + SHORTEST_PERIOD
            if nearest <= now:
                horizon = nearest if horizon is None else min(horizon, nearest)
    return taken


async def _run_pass(
    rt: Runtime, now: datetime, book: TermsBook, size: int, excluded: set[str]
) -> _Pass | None:
    async with rt.transaction() as uow:
        items = await _due_rows(uow.connection, now, size, excluded)
        if not items:
            return None
        taken = _take(items, now)
        try:
            done = await _process(uow, rt, now, book, taken)
            await uow.commit()
        except Exception as error:
            raise _PassFailed([item.row.id for item in taken], error) from error
    return done


async def _process(
    uow: UnitOfWork, rt: Runtime, now: datetime, book: TermsBook, items: list[_Due]
) -> _Pass:
    first = items[0]
    if first.kind in ("cancel_at_period_end", "cancel_after_grace"):
        _, attempt = await end_subscription(
            uow, rt, first.row, book, void_unpaid=first.kind == "cancel_after_grace"
        )
        return _Pass(
            renewed=[], attempts=[] if attempt is None else [attempt], canceled=[first.row.id]
        )
    lease = now + COLLECTION_LEASE
    renewals = [item.row for item in items if item.kind == "renew"]
    retries = [item.row for item in items if item.kind == "collect"]
    attempts = await _claim_retries(uow, retries, lease)
    retried = len(attempts)
    attempts += await _renew(uow, rt, now, book, renewals, lease)
    return _Pass(renewed=[row.id for row in renewals], attempts=attempts, retried=retried)


async def _claim_retries(uow: UnitOfWork, rows: list[Any], lease: datetime) -> list[Attempt]:
    """Take the lease of each due retry: an attempt per open invoice of the subscription."""
    if not rows:
        return []
    connection = uow.connection
    ids = [row.id for row in rows]
    await connection.execute(
        update(_subs).where(_subs.c.id.in_(ids)).values(next_payment_attempt_at=lease)
    )
    open_invoices = await connection.execute(
        select(t.invoices)
        .where(t.invoices.c.subscription_id.in_(ids), t.invoices.c.status == "open")
        .order_by(t.invoices.c.number)
    )
    by_id = {row.id: row for row in rows}
    attempts = [
        attempt_for(by_id[invoice.subscription_id], invoice_from_row(invoice), lease)
        for invoice in open_invoices
    ]
    # Nothing left to collect (paid by hand meanwhile): the lease just ends.
    settled = sorted(set(ids) - {a.subscription_id for a in attempts})
    if settled:
        await connection.execute(
            update(_subs).where(_subs.c.id.in_(settled)).values(next_payment_attempt_at=None)
        )
    return attempts


_advance = (
    update(_subs)
    .where(_subs.c.id == bindparam("b_id"))
    .values(
        price_id=bindparam("b_price_id"),
        billing_anchor=bindparam("b_anchor"),
        current_period_start=bindparam("b_start"),
        current_period_end=bindparam("b_end"),
        pending_change=None,
        next_payment_attempt_at=bindparam("b_next"),
    )
)
_take_lines = (
    update(t.pending_lines)
    .where(
        t.pending_lines.c.subscription_id == bindparam("b_subscription_id"),
        t.pending_lines.c.invoice_id.is_(None),
    )
    .values(invoice_id=bindparam("b_invoice_id"))
)


async def _renew(
    uow: UnitOfWork,
    rt: Runtime,
    now: datetime,
    book: TermsBook,
    rows: list[Any],
    lease: datetime,
) -> list[Attempt]:
    """Renew ``rows`` (locked, due) in one go; answers the attempts that collect them."""
    if not rows:
        return []
    connection = uow.connection
    subscriptions = [subscription_from_row(row) for row in rows]
    terms = await book.load(
        connection,
        {s.price_id for s in subscriptions}
        | {s.pending_change.price_id for s in subscriptions if s.pending_change},
    )
    waiting = await waiting_lines(connection, [row.id for row in rows])
    balances = await read_balances(
        connection,
        [(s.company_id, terms[s.price_id].price.currency) for s in subscriptions if s.company_id],
    )
    plans, deltas = _plan_all(subscriptions, terms, waiting, balances)
    invoices = await create_invoices(uow, _drafts(subscriptions, plans, terms), now=now)
    await _advance_all(uow, subscriptions, plans, invoices, waiting, lease)
    await add_to_balances(uow, deltas)

    attempts: list[Attempt] = []
    for row, s, plan, invoice in zip(rows, subscriptions, plans, invoices, strict=True):
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
        )
        uow.emit(EventType.SUBSCRIPTION_RENEWED, renewed)
        if plan.total > 0:
            attempts.append(attempt_for(row, invoice, lease))
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
    connection = uow.connection
    taken = [
        {"b_subscription_id": s.id, "b_invoice_id": invoice.id}
        for s, invoice in zip(subscriptions, invoices, strict=True)
        if waiting[s.id]
    ]
    if taken:
        await connection.execute(_take_lines, taken)
    await uow.pools.renew_sizes(
        [(s.id, plan.seats) for s, plan in zip(subscriptions, plans, strict=True)]
    )
    await connection.execute(
        _advance,
        [
            {
                "b_id": s.id,
                "b_price_id": plan.price_id,
                "b_anchor": plan.anchor,
                "b_start": plan.period.start,
                "b_end": plan.period.end,
                "b_next": lease if plan.total > 0 else s.next_payment_attempt_at,
            }
            for s, plan in zip(subscriptions, plans, strict=True)
        ],
    )


__all__ = ["BATCH_SIZE", "DueRun", "renew_due", "run_due"]
