"""``seat_sync: "members"``: the purchased count follows the people (SPEC §5).

* Assigning a seat when the pool is full adds one (up to ``maximum_seats``, else
  ``seat_limit_reached``).
* Revoking a seat removes one (never below ``minimum_seats``).
* Each change is billed with the product's defaults, through the same planner as a ``PATCH``
  (``members_sync``): an increase is prorated onto the next renewal, since an invitation must
  not hinge on a card charge; a decrease follows ``proration_decrease``, where ``next_period``
  changes nothing now (the renewal recounts the pool from its people); a growth is never
  scheduled, the seat is needed now. A price change scheduled meanwhile stays scheduled.
* These changes also run while the subscription cancels at period end (its seats stay
  assignable until then); the final invoice then bills what they left waiting.
* The count is recomputed before every renewal (``seatledger.domain.renewal``), and the billing
  manager holds a seat from purchase (``manager_seat.hold_billing_manager_seat``).

Both functions run inside the seat use case's unit of work, under the subscription's row lock,
so concurrent assignments to a full pool each grow it by one in turn.
"""

from __future__ import annotations

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangeRequest, plan_change
from seatledger.domain.errors import NoSeatsAvailable
from seatledger.domain.seat_pool import PoolRef, SeatPool
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import apply_plan, load_standing, subscription_of
from seatledger.services.terms import TermsBook


async def grow(uow: UnitOfWork, rt: Runtime, subscription_id: str) -> SeatPool:
    """Take a seat of the subscription for an assignment, adding one when the pool is full and
    follows members (``SeatPool.grow``). Answers the pool; refuses like an assignment does
    otherwise."""
    row = await subscription_of(uow, subscription_id, None, lock=True)
    pool = row.pool()
    pool.check_assignable()
    if await uow.pools.take_any(row.id):  # a seat came free while we waited for the lock
        taken = await uow.pools.get(PoolRef("subscription", row.id))
        assert taken is not None  # the subscription's row is locked: its pool is there
        return taken
    standing = await load_standing(uow, row, TermsBook(), lock=True)
    price = standing.terms.price
    if price.seat_sync != "members":
        raise NoSeatsAvailable()
    grown = pool.grow(1, maximum=price.maximum_seats)
    now = rt.clock.now()
    request = ChangeRequest(seats=grown.seats, members_sync=True)
    plan = plan_change(standing, request, now)
    if plan.total > 0 or not plan.applies_now:
        plan = plan_change(
            standing, ChangeRequest(seats=grown.seats, behavior="prorate", members_sync=True), now
        )
    updated = await apply_plan(uow, rt, row, standing, plan, assigned_delta=1)
    assert updated is not None  # the pool grew: something changed
    return updated.pool()


async def shrink_after_release(uow: UnitOfWork, rt: Runtime, subscription_id: str) -> None:
    """After a revocation freed its seat, remove that seat (``SeatPool.shrink``: never below
    the price's minimum nor the seats assigned). The pool's row is locked (by the release, in
    the revoking statement) before the subscription's, the order every use case takes them in
    (``lock_subscription``)."""
    row = await subscription_of(uow, subscription_id, None, lock=True)
    if row.status == "canceled" or row.company_id is None:
        return
    standing = await load_standing(uow, row, TermsBook(), lock=True)
    pool = row.pool()
    target = pool.shrink(1, minimum=standing.terms.price.minimum_seats).seats
    if target >= pool.seats:
        return
    now = rt.clock.now()
    plan = plan_change(standing, ChangeRequest(seats=target, members_sync=True), now)
    if plan.total > 0:  # a revocation collects nothing: prorate it instead
        plan = plan_change(
            standing, ChangeRequest(seats=target, behavior="prorate", members_sync=True), now
        )
    await apply_plan(uow, rt, row, standing, plan)


__all__ = ["grow", "shrink_after_release"]
