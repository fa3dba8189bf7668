"""The billing manager's own seat in a ``members`` pool (SPEC §5): held from purchase, or from
when an owner-scoped purchase attaches to its company.

A module of its own because purchases, checkouts and attachments need it, while the seat use
cases (``services.seats``) build on subscription changes, which build on purchases: here it
depends on neither, and no two services import each other in a circle.
"""

from __future__ import annotations

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef
from seatledger.services import grants
from seatledger.services.runtime import Runtime


async def hold_billing_manager_seat(
    uow: UnitOfWork, rt: Runtime, *, subscription_id: str
) -> Seat | None:
    """In ``members`` mode the billing manager holds a claimed seat from purchase (SPEC §5):
    inside the purchase's or the attachment's unit of work, once the subscription belongs to a
    company, the manager gets a claimed seat of it, with the product's benefits. Answers None
    (and does nothing) for a manual pool, an owner-scoped one, or a manager who holds a seat."""
    company_id, seat_sync, product_id = await uow.subscriptions.seat_sync_of(subscription_id)
    if seat_sync != "members" or company_id is None:
        return None
    manager_id, manager_email = await uow.members.billing_manager_id(company_id)
    if await uow.seats.holds(subscription_id, member_id=manager_id, email=manager_email):
        return None
    if not await uow.pools.take_any(subscription_id):
        return None  # pragma: no cover - a pool has no seat assigned before it has a company
    now = rt.clock.now()
    seat = await uow.seats.add_claimed(
        PoolRef("subscription", subscription_id),
        {
            "id": new_id("seat"),
            "company_id": company_id,
            "member_id": manager_id,
            "email": manager_email,
            "metadata": {},
            "created_at": now,
            "claimed_at": now,
        },
    )
    uow.emit(EventType.SEAT_ASSIGNED, seat)
    uow.emit(EventType.SEAT_CLAIMED, seat)
    await grants.grant_benefits(
        uow, rt, seat_id=seat.id, member_id=manager_id, product_id=product_id
    )
    return seat


__all__ = ["hold_billing_manager_seat"]
