"""The billing manager's own seat in a ``members`` pool (SPEC §5): held from purchase, or from
when an owner-scoped purchase attaches to its company.

A module of its own because purchases, checkouts and attachments need it, while the seat use
cases (``services.seats``) build on subscription changes, which build on purchases: here it
depends on neither, and no two services import each other in a circle.
"""

from __future__ import annotations

from sqlalchemy import select

from seatledger.adapters.db import tables as t
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
    connection = uow.connection
    pool = (
        await connection.execute(
            select(t.subscriptions.c.company_id, t.prices.c.seat_sync, t.prices.c.product_id)
            .join(t.prices, t.prices.c.id == t.subscriptions.c.price_id)
            .where(t.subscriptions.c.id == subscription_id)
        )
    ).one()
    if pool.seat_sync != "members" or pool.company_id is None:
        return None
    manager = (
        await connection.execute(
            select(t.members.c.id, t.members.c.email).where(
                t.members.c.company_id == pool.company_id,
                t.members.c.role == "billing_manager",
            )
        )
    ).one()
    if await uow.seats.holds(subscription_id, member_id=manager.id, email=manager.email):
        return None
    if not await uow.pools.take_any(subscription_id):
        return None  # pragma: no cover - a pool has no seat assigned before it has a company
    now = rt.clock.now()
    seat = await uow.seats.add_claimed(
        PoolRef("subscription", subscription_id),
        {
            "id": new_id("seat"),
            "company_id": pool.company_id,
            "member_id": manager.id,
            "email": manager.email,
            "metadata": {},
            "created_at": now,
            "claimed_at": now,
        },
    )
    uow.emit(EventType.SEAT_ASSIGNED, seat)
    uow.emit(EventType.SEAT_CLAIMED, seat)
    await grants.grant_benefits(
        uow, rt, seat_id=seat.id, member_id=manager.id, product_id=pool.product_id
    )
    return seat


__all__ = ["hold_billing_manager_seat"]
