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
per boundary, each in turn. Quarterly true-ups that fall due are billed first, each once
(``seatledger.services.true_up_quarters``).

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

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from seatledger import faults
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.purchase import Subscription
from seatledger.domain.renewal import grace_expired
from seatledger.observability import logs, metrics
from seatledger.services.cancellation import end_subscription
from seatledger.services.collection import COLLECTION_LEASE, Attempt, attempt_for, collect
from seatledger.services.renewal_batch import renew_batch
from seatledger.services.runtime import Runtime
from seatledger.services.sandbox_clock import follow_sandbox_clock
from seatledger.services.terms import TermsBook
from seatledger.services.trial_notices import announce_trial_ends
from seatledger.services.true_up_quarters import bill_quarters

BATCH_SIZE = 1000
SHORTEST_PERIOD = timedelta(days=28)
jobs_log = logs.get_logger("seatledger.jobs")

Kind = Literal["renew", "collect", "cancel_at_period_end", "cancel_after_grace"]


@dataclass(frozen=True, slots=True)
class _Due:
    row: Subscription
    kind: Kind
    due: datetime


def _classify(row: Subscription, now: datetime) -> _Due:
    attempt_at = row.next_payment_attempt_at
    attempt_due = attempt_at is not None and attempt_at <= now
    period_due = row.status != "canceled" and row.current_period_end <= now
    if (
        attempt_at is not None
        and attempt_due
        and (not period_due or attempt_at <= row.current_period_end)
    ):
        if row.status != "canceled" and grace_expired(row.payment_attempts):
            return _Due(row, "cancel_after_grace", attempt_at)
        return _Due(row, "collect", attempt_at)
    kind: Kind = "cancel_at_period_end" if row.cancel_at_period_end else "renew"
    return _Due(row, kind, row.current_period_end)


async def _due_items(uow: UnitOfWork, now: datetime, limit: int, excluded: set[str]) -> list[_Due]:
    """The ``limit`` earliest due items, locked (rows another run holds are skipped)."""
    found = await uow.subscriptions.due(now, limit, excluded)
    items = sorted((_classify(row, now) for row in found), key=lambda d: (d.due, d.row.id))
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
    """Run everything due now, as ``renew_due`` does; answers what was done. Each run is a
    ``renewals`` job: counted, timed and logged in one line (``seatledger.observability``)."""
    started = time.perf_counter()
    report = DueRun()
    try:
        await _run_due(rt, batch_size, report)
    except Exception as error:
        _job_done(report, started, error)
        raise
    _job_done(report, started, None)
    return report


def _job_done(report: DueRun, started: float, error: Exception | None) -> None:
    seconds = time.perf_counter() - started
    metrics.job_done("renewals", ok=error is None, seconds=seconds)
    if report.nothing_done and error is None:
        return
    jobs_log.info(
        "job",
        job="renewals",
        ok=error is None,
        renewed=len(report.renewed),
        retried=report.retried,
        canceled=len(report.canceled),
        declined=report.declined,
        error=None if error is None else f"{type(error).__name__}: {error}",
        duration_ms=round(seconds * 1000, 2),
    )


async def _run_due(rt: Runtime, batch_size: int, report: DueRun) -> None:
    await follow_sandbox_clock(rt)
    await announce_trial_ends(rt)  # before the renewals: an ended trial is renewed, not announced
    now = rt.clock.now()
    book = TermsBook()
    errors: list[BaseException] = []
    # Quarters first: a quarter ends before the period it belongs to renews.
    await _collect_quarters(rt, now, report, errors)
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
            metrics.renewals(failed=len(failure.ids))
            alone = max(0, alone - 1)
            continue
        if done is None:
            break
        alone = max(0, alone - 1)
        report.renewed += done.renewed
        report.retried += done.retried
        report.canceled += done.canceled
        metrics.renewals(renewed=len(done.renewed), canceled=len(done.canceled))
        faults.reached("renewal_committed")
        try:
            results = await collect(rt, done.attempts)
        except Exception as error:
            # The provider failed (not declined): those attempts wait for their lease to expire.
            errors.append(error)
            metrics.renewal_payments(error=len(done.attempts))
        else:
            declined = sum(not r.succeeded for r in results)
            report.declined += declined
            metrics.renewal_payments(paid=len(results) - declined, declined=declined)
    if errors:
        raise errors[0]


async def _collect_quarters(
    rt: Runtime, now: datetime, report: DueRun, errors: list[BaseException]
) -> None:
    """Bill the quarterly true-ups due (``seatledger.services.true_up_quarters``), then collect
    them; a provider error is kept for the end of the run, like a renewal's."""
    attempts = await bill_quarters(rt, now)
    try:
        results = await collect(rt, attempts)
    except Exception as error:
        errors.append(error)
        return
    report.declined += sum(not r.succeeded for r in results)


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
        items = await _due_items(uow, now, size, excluded)
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
    attempts += await renew_batch(uow, rt, now, book, renewals, lease)
    return _Pass(renewed=[row.id for row in renewals], attempts=attempts, retried=retried)


async def _claim_retries(
    uow: UnitOfWork, rows: list[Subscription], lease: datetime
) -> list[Attempt]:
    """Take the lease of each due retry: an attempt per open invoice of the subscription."""
    if not rows:
        return []
    ids = [row.id for row in rows]
    await uow.subscriptions.set_next_attempt(ids, lease)
    by_id = {row.id: row for row in rows}
    attempts = [
        attempt_for(by_id[invoice.subscription_id], invoice, lease)
        for invoice in await uow.invoices.open_of(ids)
        if invoice.subscription_id is not None
    ]
    # Nothing left to collect (paid by hand meanwhile): the lease just ends.
    settled = sorted(set(ids) - {a.subscription_id for a in attempts})
    await uow.subscriptions.set_next_attempt(settled, None)
    return attempts


__all__ = ["BATCH_SIZE", "DueRun", "renew_due", "run_due"]
