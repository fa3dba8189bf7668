"""Declarative holders: ``PUT …/holders`` makes a pool's holders exactly a list of people, in one
transaction (rules: ``seatledger.domain.holders``).

    lock the pool (a subscription's: pool, then subscription) ──▶ read its live seats
      ──▶ diff ──▶ revoke the unwanted (each as a revocation does, without shrinking)
      ──▶ resize a ``members`` pool once, billed as one seat-count change
      ──▶ assign the missing (each as an assignment does: a seat taken, an invitation)

Every refusal (a bad address, too few seats, the pool not assignable) comes before anything is
written. The events are the single operations' own: ``seat.revoked`` (and its grants'
``benefit_grant.revoked``), ``seat.assigned`` (with ``seat.claimed`` and the grants under
``immediate_claim``), and ``subscription.updated`` when a ``members`` pool is resized; nothing
else, so webhook receivers need nothing new. A preview runs the same plan in a reading unit of
work and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangePlan, ChangeRequest, Standing, plan_change
from seatledger.domain.catalog import ProrationBehavior
from seatledger.domain.errors import NoSeatsAvailable, NotFound
from seatledger.domain.events import EventType
from seatledger.domain.holders import HoldersDiff, holders_diff, seats_after, wanted_holders
from seatledger.domain.invoice import InvoiceLine
from seatledger.domain.purchase import Subscription
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef, SeatPool
from seatledger.observability import metrics
from seatledger.services import grants
from seatledger.services.runtime import Runtime
from seatledger.services.seat_placement import INVITE, Placement, place_seat
from seatledger.services.subscriptions import apply_plan, load_standing, subscription_of
from seatledger.services.terms import TermsBook


@dataclass(frozen=True, slots=True)
class Assigned:
    email: str
    seat: Seat | None  # None in a preview: the seat does not exist yet


@dataclass(frozen=True, slots=True)
class HoldersSync:
    """What a sync did (or, previewed, would do)."""

    ref: PoolRef
    preview: bool
    assigned: tuple[Assigned, ...]
    revoked: tuple[Seat, ...]  # as revoked (previewed: as they are now)
    unchanged: tuple[Seat, ...]
    duplicates: tuple[str, ...]
    seats_before: int
    seats_after: int
    proration_behavior: ProrationBehavior | None
    proration: tuple[InvoiceLine, ...]  # billed now when ``invoice_now``, else at renewal
    invoice_now: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    pool: SeatPool
    diff: HoldersDiff
    seats_after: int
    subscription: Subscription | None = None
    standing: Standing | None = None  # with the holders left after the revocations
    change: ChangePlan | None = None  # a ``members`` pool's resize


async def _pool(
    uow: UnitOfWork, ref: PoolRef, scope: str | None, *, lock: bool
) -> tuple[SeatPool, Subscription | None, Standing | None]:
    if ref.kind == "order":
        pool = await (uow.pools.lock if lock else uow.pools.get)(ref, scope_company_id=scope)
        if pool is None:
            raise NotFound("order")
        return pool, None, None
    row = await subscription_of(uow, ref.id, scope, lock=lock)
    standing = await load_standing(uow, row, TermsBook(), lock=lock)
    return row.pool(), row, standing


def _members_change(standing: Standing, seats: int, now: datetime) -> ChangePlan:
    """The resize as the ``members`` mode bills its own changes (``seat_sync``): the product's
    defaults, but a charge is prorated onto the next renewal rather than collected now."""
    plan = plan_change(standing, ChangeRequest(seats=seats, members_sync=True), now)
    if plan.total > 0:
        plan = plan_change(
            standing, ChangeRequest(seats=seats, behavior="prorate", members_sync=True), now
        )
    return plan


async def _plan(
    uow: UnitOfWork, ref: PoolRef, emails: object, scope: str | None, now: datetime, *, lock: bool
) -> tuple[_Plan, tuple[str, ...]]:
    wanted = wanted_holders(emails)
    pool, row, standing = await _pool(uow, ref, scope, lock=lock)
    pool.check_assignable()
    diff = holders_diff(await uow.seats.live_of_pool(pool.id), wanted)
    if standing is None or standing.terms.price.seat_sync != "members":
        after = seats_after(pool.seats, diff, follows_members=False)
        return _Plan(pool, diff, after, row), wanted.duplicates
    price = standing.terms.price
    after = seats_after(
        pool.seats,
        diff,
        follows_members=True,
        minimum=price.minimum_seats,
        maximum=price.maximum_seats,
    )
    # Planned from the holders left once the revocations are made, as a shrink after them is.
    left = replace(standing, assigned=len(diff.unchanged))
    change = _members_change(left, after, now) if after != pool.seats else None
    if change is not None and not change.applies_now:
        after = pool.seats  # a decrease for the next period: the renewal recounts the pool
    return _Plan(pool, diff, after, row, left, change), wanted.duplicates


def _answer(
    plan: _Plan,
    duplicates: tuple[str, ...],
    *,
    assigned: tuple[Assigned, ...],
    revoked: tuple[Seat, ...],
    preview: bool,
) -> HoldersSync:
    change = plan.change if plan.change is not None and plan.change.changed else None
    return HoldersSync(
        ref=plan.pool.ref,
        preview=preview,
        assigned=assigned,
        revoked=revoked,
        unchanged=plan.diff.unchanged,
        duplicates=duplicates,
        seats_before=plan.pool.seats,
        seats_after=plan.seats_after,
        proration_behavior=None if change is None else change.behavior,
        proration=() if change is None else change.lines,
        invoice_now=change is not None and change.invoice_now,
    )


async def preview_holders(
    rt: Runtime, ref: PoolRef, emails: object, *, scope_company_id: str | None = None
) -> HoldersSync:
    """What ``sync_holders`` would do now; writes nothing."""
    async with rt.reading() as uow:
        plan, duplicates = await _plan(
            uow, ref, emails, scope_company_id, rt.clock.now(), lock=False
        )
    assigned = tuple(Assigned(email, None) for email in plan.diff.assign)
    return _answer(plan, duplicates, assigned=assigned, revoked=plan.diff.revoke, preview=True)


async def sync_holders(
    rt: Runtime,
    ref: PoolRef,
    emails: object,
    *,
    how: Placement = INVITE,
    scope_company_id: str | None = None,
) -> HoldersSync:
    """Make the pool's holders exactly ``emails``, in one transaction (module docstring)."""
    async with rt.transaction() as uow:
        plan, duplicates = await _plan(
            uow, ref, emails, scope_company_id, rt.clock.now(), lock=True
        )
        revoked = await _revoke_all(uow, rt, plan)
        if plan.change is not None:
            assert plan.subscription is not None
            assert plan.standing is not None
            await apply_plan(uow, rt, plan.subscription, plan.standing, plan.change)
        assigned = await _assign_all(uow, rt, plan.pool, plan.diff.assign, how)
        await uow.commit()
    for _ in assigned:
        metrics.seats_assigned()
        if how.immediate_claim:
            metrics.seats_claimed()
    return _answer(
        plan, duplicates, assigned=tuple(assigned), revoked=tuple(revoked), preview=False
    )


async def _revoke_all(uow: UnitOfWork, rt: Runtime, plan: _Plan) -> tuple[Seat, ...]:
    """The unwanted seats revoked together, each with the events a revocation emits; the pool
    is not shrunk seat by seat (a ``members`` pool is resized once, by the plan)."""
    if not plan.diff.revoke:
        return ()
    done = await uow.seats.revoke_in_pool(
        plan.pool.id, [seat.id for seat in plan.diff.revoke], rt.clock.now()
    )
    for seat, revoked_grants in done:
        uow.emit(EventType.SEAT_REVOKED, seat)
        grants.emit_revoked(uow, revoked_grants)
        metrics.seats_revoked()
    # The pool is locked and its live seats were read under the lock: all of them are revoked.
    assert len(done) == len(plan.diff.revoke)
    return tuple(seat for seat, _ in done)


async def _assign_all(
    uow: UnitOfWork, rt: Runtime, pool: SeatPool, emails: tuple[str, ...], how: Placement
) -> list[Assigned]:
    """The pool's seats taken for every new holder in one statement (the pool is locked and
    was sized for them), then a seat placed for each."""
    if not emails:
        return []
    if await uow.pools.take(pool.ref, count=len(emails)) is None:  # pragma: no cover
        raise NoSeatsAvailable(f"Every seat of this {pool.kind} is assigned.")
    assert pool.company_id is not None  # ``check_assignable`` refuses a pool without one
    return [
        Assigned(
            email,
            await place_seat(
                uow,
                rt,
                pool.ref,
                company_id=pool.company_id,
                price_id=pool.price_id,
                email=email,
                how=how,
            ),
        )
        for email in emails
    ]


__all__ = ["Assigned", "HoldersSync", "preview_holders", "sync_holders"]
