"""Seat transfer: a live seat passes from its holder to another person, in one transaction.

    lock the seat's pool ──▶ the seat (live, else ``seat_not_pending``) ──▶ revoke it WITHOUT
    releasing the pool's seat (its grants revoked) ──▶ a new seat for the next person in the
    same pool, with an invitation or claimed at once

The pool's ``assigned_seats`` is never touched: there is no moment, committed or not, at which
the pool has a free seat that a racing assignment could take, and a ``members`` pool neither
shrinks nor grows (nothing is billed). The pool's row is locked first, the order every use case
takes (``lock_subscription``), so assignments to it wait for the transfer and then find it as
full as before.

The previous holding ends and a new one starts: the old seat keeps its history (claimed at,
revoked at) and the new seat has its own id. So the events are the single operations' own —
``seat.revoked`` (with ``benefit_grant.revoked``) and ``seat.assigned`` (with ``seat.claimed``
and ``benefit_grant.created`` under ``immediate_claim``) — and a webhook receiver that follows
revocations and assignments follows transfers with nothing new. The new seat keeps the old
one's ``metadata``.
"""

from __future__ import annotations

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import NotFound, SeatNotPending, ValidationFailed
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef
from seatledger.observability import metrics
from seatledger.services.runtime import Runtime
from seatledger.services.seat_placement import INVITE, Placement, place_seat
from seatledger.services.seats import revoke_in


def _recipient(email: object, member_id: object) -> tuple[str | None, str | None]:
    if (email is None) == (member_id is None):
        raise ValidationFailed.field("email", "give exactly one of email or member_id")
    if email is not None:
        return normalize_email(email), None
    assert isinstance(member_id, str)
    return None, member_id


async def _check_not_self(
    uow: UnitOfWork, seat: Seat, email: str | None, member_id: str | None
) -> None:
    """A transfer to the seat's own holder (by address, or a member of that address) is a
    mistake, not a move; a member not in the seat's company is not found."""
    if email is not None and email == seat.email.lower():
        raise ValidationFailed.field("email", "is the seat's holder already")
    if member_id is None:
        return
    member = await uow.members.current(seat.company_id, member_id)
    if member is None:
        raise NotFound("member", field="member_id")
    if member_id == seat.member_id or member.email.lower() == seat.email.lower():
        raise ValidationFailed.field("member_id", "is the seat's holder already")


async def transfer_seat(
    rt: Runtime,
    seat_id: str,
    *,
    email: object = None,
    member_id: object = None,
    how: Placement = INVITE,
    scope_company_id: str | None = None,
) -> tuple[Seat, Seat]:
    """Move a pending or claimed seat to ``email`` or ``member_id``: answers the revoked seat
    and the new one (with its invitation, or claimed). Refusals: ``seat_not_pending`` for a
    revoked seat, ``already_assigned`` when the person holds a live seat of the pool, 422 for a
    transfer to the holder, 404 for a member not in the seat's company."""
    address, member = _recipient(email, member_id)
    async with rt.transaction() as uow:
        found = await uow.seats.get(seat_id, scope_company_id=scope_company_id)
        if found is None:
            raise NotFound("seat")
        ref = PoolRef("subscription" if found.subscription_id else "order", found.pool_id)
        pool = await uow.pools.lock(ref)
        seat = await uow.seats.get(seat_id)  # read again under the pool's lock
        assert pool is not None
        assert seat is not None
        if not seat.live:
            raise SeatNotPending("This seat is revoked: only a live seat can be transferred.")
        await _check_not_self(uow, seat, address, member)
        pool.check_assignable()
        revoked = await revoke_in(uow, rt, seat.id, follow_members=False, release=False)
        assert revoked is not None  # live under the pool's lock, which every revocation takes
        assert pool.company_id is not None  # ``check_assignable`` refuses a pool without one
        placed = await place_seat(
            uow,
            rt,
            ref,
            company_id=pool.company_id,
            price_id=pool.price_id,
            email=address,
            member_id=member,
            metadata=seat.metadata,
            how=how,
        )
        await uow.commit()
    metrics.seats_assigned()
    if how.immediate_claim:
        metrics.seats_claimed()
    return revoked, placed


__all__ = ["transfer_seat"]
