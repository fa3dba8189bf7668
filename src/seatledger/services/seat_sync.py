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
  manager holds a seat from purchase (``seats.hold_billing_manager_seat``).

Both functions run inside the seat use case's unit of work, under the subscription's row lock,
so concurrent assignments to a full pool each grow it by one in turn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.billing import ChangeRequest, plan_change
from seatledger.domain.errors import (
    CompanyRequired,
    NoSeatsAvailable,
    SeatLimitReached,
    SubscriptionNotActive,
)
from seatledger.pricing import MAX_SEATS
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import apply_plan, load_standing, subscription_row
from seatledger.services.terms import TermsBook


async def grow(uow: UnitOfWork, rt: Runtime, subscription_id: str) -> Any:
    """Take a seat of the subscription for an assignment, adding one when the pool is full and
    follows members. Answers the updated row; refuses like an assignment does otherwise."""
    connection = uow.connection
    row = await subscription_row(connection, subscription_id, None, lock=True)
    if row.status == "canceled":
        raise SubscriptionNotActive()
    if row.company_id is None:
        raise CompanyRequired()
    if row.assigned_seats < row.seats:  # a seat came free while we waited for the lock
        return (
            await connection.execute(
                update(t.subscriptions)
                .where(t.subscriptions.c.id == row.id)
                .values(assigned_seats=t.subscriptions.c.assigned_seats + 1)
                .returning(*t.subscriptions.c)
            )
        ).one()
    standing = await load_standing(connection, row, TermsBook(), lock=True)
    price = standing.terms.price
    if price.seat_sync != "members":
        raise NoSeatsAvailable()
    highest = MAX_SEATS if price.maximum_seats is None else price.maximum_seats
    if row.seats >= highest:
        raise SeatLimitReached(f"This subscription has its maximum of {highest} seats.")
    now = rt.clock.now()
    request = ChangeRequest(seats=row.seats + 1, members_sync=True)
    plan = plan_change(standing, request, now)
    if plan.total > 0 or not plan.applies_now:
        plan = plan_change(
            standing, ChangeRequest(seats=row.seats + 1, behavior="prorate", members_sync=True), now
        )
    return await apply_plan(uow, rt, row, standing, plan, assigned_delta=1)


async def shrink(uow: UnitOfWork, rt: Runtime, subscription_id: str) -> None:
    """After a revocation, remove the seat that came free (never below the price's minimum)."""
    connection = uow.connection
    row = await subscription_row(connection, subscription_id, None, lock=True)
    if row.status == "canceled" or row.company_id is None:
        return
    standing = await load_standing(connection, row, TermsBook(), lock=True)
    price = standing.terms.price
    target = max(row.seats - 1, price.minimum_seats, row.assigned_seats, 1)
    if target >= row.seats:
        return
    now = rt.clock.now()
    plan = plan_change(standing, ChangeRequest(seats=target, members_sync=True), now)
    if plan.total > 0:  # a revocation collects nothing: prorate it instead
        plan = plan_change(
            standing, ChangeRequest(seats=target, behavior="prorate", members_sync=True), now
        )
    await apply_plan(uow, rt, row, standing, plan)


__all__ = ["grow", "shrink"]
