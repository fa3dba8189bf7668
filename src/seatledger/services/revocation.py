"""A seat's revocation in two statements on PostgreSQL (``seatledger.adapters.db.revoking``), for
``seatledger.services.seats.revoke_seat``; step by step otherwise, there."""

from __future__ import annotations

from dataclasses import replace

from seatledger.domain.errors import NotFound
from seatledger.domain.events import EventType
from seatledger.domain.seat import Seat
from seatledger.observability import metrics
from seatledger.services.runtime import Runtime


async def revoke_at_once(rt: Runtime, seat_id: str, scope_company_id: str | None) -> Seat | None:
    """PostgreSQL: the revocation in two statements (``seatledger.adapters.db.revoking``): the
    seat and its grants read, ``Seat.revoke`` and the events made from them, one statement
    writing it all if nothing changed meanwhile. None when something did, when the pool
    follows members (the subscription shrinks too), or when the company has seat alerts
    (``seatledger.services.usage_alerts``): the caller revokes step by step."""
    now = rt.clock.now()
    async with rt.statement() as alone:
        plan = await alone.revocations.plan(seat_id, scope_company_id=scope_company_id)
        if plan is None:
            raise NotFound("seat")
        if plan.seat.status == "revoked":
            return plan.seat  # revoking twice changes nothing
        if plan.follows_members or plan.alerted:
            return None  # step by step: a members pool shrinks; alerts evaluate at commit
        seat = plan.seat.revoke(now)
        revoked = [replace(grant, status="revoked", revoked_at=now) for grant in plan.grants]
        events = [alone.event_row(EventType.SEAT_REVOKED, seat)]
        events += [
            alone.event_row(EventType.BENEFIT_GRANT_REVOKED, grant)
            for grant in sorted(revoked, key=lambda grant: grant.id)  # as ``emit_revoked``
        ]
        if not await alone.revocations.revoke(plan, now, events):
            return None
        await alone.commit()
    metrics.seats_revoked()
    return seat


__all__ = ["revoke_at_once"]
