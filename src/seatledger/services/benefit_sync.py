"""When a subscription moves to a price of another product, its claimed seats keep their
holders and their grants follow the new product: grants of benefits the new product does not
have are revoked, benefits it adds are granted, and grants of benefits both products share are
kept as they are (a license key does not change). Runs inside the change's unit of work."""

from __future__ import annotations

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import EventType
from seatledger.services.grants import new_grant
from seatledger.services.runtime import Runtime


async def resync_benefits(
    uow: UnitOfWork, rt: Runtime, *, subscription_id: str, product_id: str
) -> None:
    grants = uow.grants
    benefits = await grants.benefits_of(product_id)
    wanted = {benefit.id for benefit in benefits}
    holders = await grants.claimed_holders(subscription_id)
    if not holders:
        return
    live = await grants.live_of_seats([seat_id for seat_id, _ in holders])
    now = rt.clock.now()
    stale = sorted(grant_id for grant_id, _, benefit_id in live if benefit_id not in wanted)
    if stale:
        for grant in sorted(await grants.revoke(stale, now), key=lambda g: g.id):
            uow.emit(EventType.BENEFIT_GRANT_REVOKED, grant)
    held = {(seat_id, benefit_id) for _, seat_id, benefit_id in live}
    granted = [
        new_grant(benefit, seat_id=seat_id, member_id=member_id, now=now)
        for seat_id, member_id in holders
        for benefit in benefits
        if (seat_id, benefit.id) not in held
    ]
    await grants.add(granted)
    for grant in granted:
        uow.emit(EventType.BENEFIT_GRANT_CREATED, grant)


__all__ = ["resync_benefits"]
