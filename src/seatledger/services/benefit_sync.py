"""When a subscription moves to a price of another product, its claimed seats keep their
holders and their grants follow the new product: grants of benefits the new product does not
have are revoked, benefits it adds are granted, and grants of benefits both products share are
kept as they are (a license key does not change). Runs inside the change's unit of work."""

from __future__ import annotations

from sqlalchemy import insert, select, update

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import EventType
from seatledger.services.grants import grant_from_row, new_grant, product_benefits
from seatledger.services.runtime import Runtime

_benefit_type = (
    select(t.benefits.c.type)
    .where(t.benefits.c.id == t.benefit_grants.c.benefit_id)
    .scalar_subquery()
    .label("benefit_type")
)


async def resync_benefits(
    uow: UnitOfWork, rt: Runtime, *, subscription_id: str, product_id: str
) -> None:
    connection = uow.connection
    benefits = await product_benefits(connection, product_id)
    wanted = {benefit.id for benefit in benefits}
    holders = (
        await connection.execute(
            select(t.seats.c.id, t.seats.c.member_id).where(
                t.seats.c.pool_id == subscription_id, t.seats.c.status == "claimed"
            )
        )
    ).all()
    if not holders:
        return
    seat_ids = [seat.id for seat in holders]
    live = (
        await connection.execute(
            select(
                t.benefit_grants.c.id, t.benefit_grants.c.seat_id, t.benefit_grants.c.benefit_id
            ).where(
                t.benefit_grants.c.seat_id.in_(seat_ids), t.benefit_grants.c.status == "granted"
            )
        )
    ).all()
    now = rt.clock.now()
    stale = sorted(grant.id for grant in live if grant.benefit_id not in wanted)
    if stale:
        revoked = await connection.execute(
            update(t.benefit_grants)
            .where(t.benefit_grants.c.id.in_(stale), t.benefit_grants.c.status == "granted")
            .values(status="revoked", revoked_at=now)
            .returning(*t.benefit_grants.c, _benefit_type)
        )
        for grant in sorted((grant_from_row(row) for row in revoked), key=lambda g: g.id):
            uow.emit(EventType.BENEFIT_GRANT_REVOKED, grant)
    held = {(grant.seat_id, grant.benefit_id) for grant in live}
    made = [
        new_grant(benefit, seat_id=seat.id, member_id=seat.member_id, now=now)
        for seat in holders
        for benefit in benefits
        if (seat.id, benefit.id) not in held
    ]
    rows = [row for _, row in made]
    granted = [grant for grant, _ in made]
    if rows:
        await connection.execute(insert(t.benefit_grants), rows)
    for grant in granted:
        uow.emit(EventType.BENEFIT_GRANT_CREATED, grant)


__all__ = ["resync_benefits"]
