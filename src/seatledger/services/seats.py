"""Seats: assign, look up an invitation, claim, resend, revoke, list (SPEC §5).

The use cases load and write through the repositories (``uow.pools``, ``uow.seats``) and let
the domain name the rules (``SeatPool.take``, ``Seat.claim``, ``Seat.revoke``). Capacity is
enforced by one conditional update of the pool's counter (``SeatPools.take``): concurrent
assignments queue on the pool's row and each sees the count its predecessor left, so N
simultaneous assignments to a pool with k free seats succeed exactly k times. The database's
CHECK ``assigned_seats <= seats`` stands behind it. The read that names *why* an assignment was
refused runs only on the failure path. On PostgreSQL an assignment to an email is one statement
(``Seats.assign``: the take, the seat and its events in a data-modifying CTE) between BEGIN and
COMMIT; SQLite, and an assignment to a member, take the seat, add it and write the events at
commit, one statement each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import (
    Conflict,
    NoSeatsAvailable,
    NotFound,
    SeatNotPending,
    ValidationFailed,
)
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.seat import Invitation, Seat, check_metadata, hash_token, new_token
from seatledger.domain.seat_pool import PoolRef, SeatPool
from seatledger.observability import metrics
from seatledger.services import grants, seat_sync, usage_alerts
from seatledger.services.claims import (
    Claim,
    InvitationView,
    claim_in,
    claim_seat,
    lookup_invitation,
    product_of_price,
)
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.revocation import revoke_at_once
from seatledger.services.runtime import Runtime


def pool_of(subscription_id: str | None, order_id: str | None) -> PoolRef:
    """The pool a request names with exactly one of ``subscription_id`` and ``order_id``."""
    return PoolRef.of(subscription_id, order_id)


async def _refusal(
    uow: UnitOfWork, ref: PoolRef, scope_company_id: str | None
) -> tuple[SeatPool | None, Exception]:
    """The pool and why it refused a seat, named by ``SeatPool.take`` on a fresh read."""
    pool = await uow.pools.get(ref, scope_company_id=scope_company_id)
    if pool is None:
        return None, NotFound(ref.noun, field=ref.field)
    try:
        pool.take()
    except Conflict as refusal:  # company_required, subscription_not_active, order_not_paid, …
        return pool, refusal
    return pool, NoSeatsAvailable(f"Every seat of this {ref.kind} is assigned.")  # freed meanwhile


async def get_pool(rt: Runtime, ref: PoolRef, *, scope_company_id: str | None = None) -> SeatPool:
    """The pool with its counts (404 naming the request's field when it is not in scope)."""
    async with rt.reading() as uow:
        pool = await uow.pools.get(ref, scope_company_id=scope_company_id)
    if pool is None:
        raise NotFound(ref.noun, field=ref.field)
    return pool


def new_invitation(rt: Runtime, now: datetime) -> tuple[str, Invitation]:
    """A fresh invitation: the token's hash to store, and the invitation to answer once."""
    token = new_token()
    expires_at = now + rt.settings.invitation_ttl
    url = f"{rt.settings.public_url}/claim/{token}"
    return hash_token(token), Invitation(url=url, token=token, expires_at=expires_at)


def _invitation_email(seat: Seat, invitation: Invitation) -> dict[str, Any]:
    # The outbox row carries the link until the mail leaves; delivery scrubs it afterwards.
    return {
        "seat_id": seat.id,
        "to": seat.email,
        "url": invitation.url,
        "expires_at": invitation.expires_at.isoformat(),
    }


def emit_invitation_email(uow: UnitOfWork, seat: Seat, invitation: Invitation) -> None:
    uow.emit("invitation.email", _invitation_email(seat, invitation))


async def _take(
    uow: UnitOfWork, rt: Runtime, ref: PoolRef, scope: str | None, *, refused: bool = False
) -> SeatPool:
    """A seat of the pool, or the refusal; a full pool that follows members grows by one.
    ``refused``: the pool refused a take in this transaction already (no second try)."""
    taken = None if refused else await uow.pools.take(ref, scope_company_id=scope)
    if taken is not None:
        return taken
    pool, refusal = await _refusal(uow, ref, scope)
    # The one statement refuses a company with seat alerts: its seat is taken here then.
    alerted = refused and await usage_alerts.assigned_step_by_step(uow, pool)
    if alerted and (taken := await uow.pools.take(ref, scope_company_id=scope)):
        return taken
    if pool is None or ref.kind != "subscription" or not isinstance(refusal, NoSeatsAvailable):
        raise refusal
    price = await uow.catalog.price(pool.price_id)
    if price is not None and price.seat_price.seat_sync == "members":
        return await seat_sync.grow(uow, rt, ref.id)
    # A manual pool takes a seat freed since it refused, once; a full one refuses without its
    # rows' locks (in a storm of attempts on full pools the refusals would queue there).
    if pool.available_seats > 0 and (taken := await uow.pools.take(ref, scope_company_id=scope)):
        return taken
    raise refusal


async def assign_seat(
    rt: Runtime,
    *,
    subscription_id: str | None = None,
    order_id: str | None = None,
    email: str | None = None,
    member_id: str | None = None,
    immediate_claim: bool = False,
    send_email: bool = True,
    metadata: dict[str, Any] | None = None,
    scope_company_id: str | None = None,
) -> Seat:
    """Assign a free seat of a pool to an email or a member.

    Answers the seat with its invitation (the only time the plain token is shown), or, with
    ``immediate_claim``, a claimed seat whose benefits are granted at once.
    """
    ref = pool_of(subscription_id, order_id)
    if email is None and member_id is None:
        raise ValidationFailed.field("email", "give an email or a member_id")
    address = normalize_email(email) if email is not None else None
    checked_metadata = check_metadata(metadata)
    now = rt.clock.now()
    values, invitation = _pending_seat(rt, now, checked_metadata, invited=not immediate_claim)
    mail = send_email and invitation is not None
    # PostgreSQL, for an email: one statement. Without an immediate claim it is the whole use
    # case and commits itself; a refusal writes nothing and is named (or grown) step by step.
    at_once = address is not None and member_id is None and rt.engine.dialect.name == "postgresql"
    if at_once and not immediate_claim and address is not None:
        async with rt.statement() as alone:
            done = await _assign_at_once(
                alone, ref, values, address, invitation, mail, scope_company_id
            )
            await alone.commit()
        if done is not None:
            metrics.seats_assigned()
            return done[1]
        at_once = False
    async with rt.transaction() as uow:
        assigned = None
        if at_once and address is not None:
            assigned = await _assign_at_once(
                uow, ref, values, address, invitation, mail, scope_company_id
            )
        if assigned is None:
            taken = await _take(uow, rt, ref, scope_company_id, refused=at_once)
            assigned = await _add(uow, ref, taken, values, address, member_id, invitation)
            if mail and invitation is not None:
                emit_invitation_email(uow, assigned[1], invitation)
        pool, seat = assigned
        if immediate_claim:
            product_id = await product_of_price(uow, pool.price_id)
            seat, _ = await claim_in(uow, rt, seat, product_id, now)
        await uow.commit()
    metrics.seats_assigned()
    if immediate_claim:
        metrics.seats_claimed()
    return seat


def _pending_seat(
    rt: Runtime, now: datetime, metadata: dict[str, Any], *, invited: bool
) -> tuple[dict[str, Any], Invitation | None]:
    """A new pending seat's columns, and its invitation when it is to be claimed by one."""
    token_hash, invitation = new_invitation(rt, now) if invited else (None, None)
    values: dict[str, Any] = {
        "id": new_id("seat"),
        "status": "pending",
        "token_hash": token_hash,
        "token_expires_at": invitation.expires_at if invitation else None,
        "metadata": metadata,
        "created_at": now,
    }
    return values, invitation


async def _assign_at_once(
    uow: UnitOfWork,
    ref: PoolRef,
    values: dict[str, Any],
    email: str,
    invitation: Invitation | None,
    mail: bool,
    scope: str | None,
) -> tuple[SeatPool, Seat] | None:
    """The common case on PostgreSQL, in one statement (``Seats.assign``): its events are
    rendered first from the seat about to be inserted (its company and member, which only the
    statement finds, are filled in there). None when the pool refused: nothing was written."""
    draft = Seat(
        company_id="",  # the pool's company, set by the statement
        subscription_id=ref.id if ref.kind == "subscription" else None,
        order_id=ref.id if ref.kind == "order" else None,
        member_id=None,  # the company's member of that address, set by the statement
        email=email,
        claimed_at=None,
        revoked_at=None,
        invitation=invitation,
        id=values["id"],
        status=values["status"],
        metadata=values["metadata"],
        created_at=values["created_at"],
    )
    mails = [_invitation_email(draft, invitation)] if mail and invitation is not None else []
    return await uow.seats.assign(
        ref,
        values,
        email=email,
        invitation=invitation,
        seat_events=[uow.event_row(EventType.SEAT_ASSIGNED, draft)],
        events=[uow.event_row("invitation.email", payload) for payload in mails],
        scope_company_id=scope,
    )


async def _add(
    uow: UnitOfWork,
    ref: PoolRef,
    pool: SeatPool,
    values: dict[str, Any],
    email: str | None,
    member_id: str | None,
    invitation: Invitation | None,
) -> tuple[SeatPool, Seat]:
    """The seat, in the pool that gave it (``_take``), statement by statement."""
    assert pool.company_id is not None  # SeatPool.take refuses a pool without a company
    seat = await uow.seats.add(
        ref,
        {**values, "company_id": pool.company_id},
        email=email,
        member_id=member_id,
        invitation=invitation,
    )
    if seat is None:
        raise NotFound("member", field="member_id")
    uow.emit(EventType.SEAT_ASSIGNED, seat)
    return pool, seat


async def _seat(uow: UnitOfWork, seat_id: str, scope_company_id: str | None) -> Seat:
    seat = await uow.seats.get(seat_id, scope_company_id=scope_company_id)
    if seat is None:
        raise NotFound("seat")
    return seat


async def get_seat(rt: Runtime, seat_id: str, *, scope_company_id: str | None = None) -> Seat:
    async with rt.reading() as uow:
        return await _seat(uow, seat_id, scope_company_id)


async def resend_invitation(
    rt: Runtime, seat_id: str, *, send_email: bool = True, scope_company_id: str | None = None
) -> Seat:
    """A new token and a new expiry for a pending seat; the old token stops working."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        token_hash, invitation = new_invitation(rt, now)
        seat = await uow.seats.reissue(
            seat_id, token_hash, invitation, scope_company_id=scope_company_id
        )
        if seat is None:
            await _seat(uow, seat_id, scope_company_id)  # NotFound when absent
            raise SeatNotPending()
        uow.emit(EventType.SEAT_INVITATION_RESENT, seat)
        if send_email:
            emit_invitation_email(uow, seat, invitation)
        await uow.commit()
    return seat


async def revoke_in(
    uow: UnitOfWork,
    rt: Runtime,
    seat_id: str,
    *,
    follow_members: bool = True,
    scope_company_id: str | None = None,
    release: bool = True,
) -> Seat | None:
    """Revoke one live seat inside ``uow``; None when it was already revoked (or is absent).

    In ``members`` mode the subscription then shrinks by one seat (never below its minimum),
    unless ``follow_members`` is False (a cancellation revokes every seat and bills nothing; a
    declarative sync bills its net change once). ``release=False`` keeps the pool's seat taken
    for a new holder (a transfer; the pool's count does not change, so nothing shrinks).
    """
    revoked = await uow.seats.revoke(
        seat_id, rt.clock.now(), scope_company_id=scope_company_id, release=release
    )
    if revoked is None:
        return None
    seat, follows_members, revoked_grants = revoked  # its pool's seat is free, its grants revoked
    if follow_members and follows_members and release:
        await seat_sync.shrink_after_release(uow, rt, seat.pool_id)
    uow.emit(EventType.SEAT_REVOKED, seat)
    grants.emit_revoked(uow, revoked_grants)
    # Counted here, where every revocation passes (a call, a member's removal, a cancellation);
    # the callers commit right after, and a rollback then is a failure already logged.
    metrics.seats_revoked()
    return seat


async def revoke_seat(rt: Runtime, seat_id: str, *, scope_company_id: str | None = None) -> Seat:
    """Revoke a seat: benefits revoked, the pool's seat free again. Revoking twice is a no-op
    that answers the seat as it is (with its first ``revoked_at``)."""
    if rt.engine.dialect.name == "postgresql":
        done = await revoke_at_once(rt, seat_id, scope_company_id)
        if done is not None:
            return done
    async with rt.transaction() as uow:
        seat = await revoke_in(uow, rt, seat_id, scope_company_id=scope_company_id)
        if seat is None:
            return await _seat(uow, seat_id, scope_company_id)
        await uow.commit()
    return seat


async def revoke_member_seats(uow: UnitOfWork, rt: Runtime, *, member_id: str) -> list[Seat]:
    """Inside a caller's unit of work: revoke every live seat the member holds."""
    seat_ids = await uow.seats.live_ids_of_member(member_id)
    revoked = [await revoke_in(uow, rt, seat_id) for seat_id in seat_ids]
    return [seat for seat in revoked if seat is not None]


@dataclass(frozen=True, slots=True)
class SeatList:
    page: Page[Seat]
    total_seats: int
    assigned_seats: int
    available_seats: int


async def list_seats(
    rt: Runtime,
    *,
    subscription_id: str | None = None,
    order_id: str | None = None,
    include_revoked: bool = False,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> SeatList:
    ref = pool_of(subscription_id, order_id)
    size = check_limit(limit)
    async with rt.reading() as uow:
        found = await uow.seats.page_of_pool(
            ref,
            include_revoked=include_revoked,
            cursor=cursor,
            limit=size,
            scope_company_id=scope_company_id,
        )
    if found is None:
        raise NotFound(ref.noun, field=ref.field)
    pool, seats = found
    return SeatList(
        page=page_of(seats, [s.id for s in seats], size),
        total_seats=pool.seats,
        assigned_seats=pool.assigned_seats,
        available_seats=pool.available_seats,
    )


__all__ = [
    "Claim",
    "InvitationView",
    "SeatList",
    "assign_seat",
    "claim_seat",
    "emit_invitation_email",
    "get_pool",
    "get_seat",
    "list_seats",
    "lookup_invitation",
    "new_invitation",
    "pool_of",
    "resend_invitation",
    "revoke_in",
    "revoke_member_seats",
    "revoke_seat",
]
