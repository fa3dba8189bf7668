"""A new seat for one person in a pool whose seat the caller holds already, inside the caller's
unit of work: the invitation (or an immediate claim), the seat row, its events.

The declarative sync (``seatledger.services.holders``) takes the pool's seat first
(``SeatPools.take``); a transfer (``seatledger.services.transfers``) keeps the seat its
previous holder gave up. Either way the seat is added as an assignment adds it
(``Seats.add``): ``seat.assigned``, the invitation email unless ``send_email`` is false, and
with ``immediate_claim`` the claim (``seat.claimed``, the benefits granted) and no invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import NotFound
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.seat import Invitation, Seat
from seatledger.domain.seat_pool import PoolRef
from seatledger.services.claims import claim_in, product_of_price
from seatledger.services.runtime import Runtime
from seatledger.services.seats import emit_invitation_email, new_invitation


@dataclass(frozen=True, slots=True)
class Placement:
    """How the new seats are handed out (as ``POST /v1/seats`` takes them)."""

    immediate_claim: bool = False
    send_email: bool = True


INVITE = Placement()  # the default: an invitation, by email


async def place_seat(
    uow: UnitOfWork,
    rt: Runtime,
    ref: PoolRef,
    *,
    company_id: str,
    price_id: str,
    email: str | None,
    member_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    how: Placement = INVITE,
) -> Seat:
    """The seat, pending with its invitation or claimed at once. ``NotFound("member_id")``
    when ``member_id`` is not a live member of the company; ``already_assigned`` (the pool's
    unique indexes) when the person holds a live seat of the pool."""
    now = rt.clock.now()
    invitation: Invitation | None = None
    token_hash: str | None = None
    if not how.immediate_claim:
        token_hash, invitation = new_invitation(rt, now)
    values: dict[str, Any] = {
        "id": new_id("seat"),
        "company_id": company_id,
        "status": "pending",
        "token_hash": token_hash,
        "token_expires_at": invitation.expires_at if invitation else None,
        "metadata": dict(metadata or {}),
        "created_at": now,
    }
    seat = await uow.seats.add(ref, values, email=email, member_id=member_id, invitation=invitation)
    if seat is None:
        raise NotFound("member", field="member_id")
    uow.emit(EventType.SEAT_ASSIGNED, seat)
    if invitation is not None and how.send_email:
        emit_invitation_email(uow, seat, invitation)
    if how.immediate_claim:
        product_id = await product_of_price(uow, price_id)
        seat, _ = await claim_in(uow, rt, seat, product_id, now)
    return seat


__all__ = ["INVITE", "Placement", "place_seat"]
