"""Seats: assign, list, resend an invitation, revoke (SPEC §5, §6)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import StrictBool

from seatledger.api.auth import Caller, Reader, Writer
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    JsonObject,
    Limit,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    optional_id,
)
from seatledger.api.idempotency import store_for_replay
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.errors import Forbidden
from seatledger.domain.ids import check_id
from seatledger.domain.seat import Seat
from seatledger.services import companies, seats
from seatledger.services.runtime import Runtime

router = APIRouter(tags=["seats"], route_class=JsonRoute)


class SeatIn(ApiModel):
    """One pool (`subscription_id` or `order_id`) and one person (`email` or `member_id`)."""

    subscription_id: Text | None = None
    order_id: Text | None = None
    email: Text | None = None
    member_id: Text | None = None
    immediate_claim: StrictBool = False
    send_email: StrictBool = True
    metadata: JsonObject | None = None


class ResendIn(ApiModel):
    send_email: StrictBool = True


class InvitationOut(OutModel):
    url: str
    token: str
    expires_at: Timestamp


class SeatOut(OutModel):
    id: str
    status: Literal["pending", "claimed", "revoked"]
    subscription_id: str | None
    order_id: str | None
    member_id: str | None
    email: str
    claimed_at: Timestamp | None
    revoked_at: Timestamp | None
    metadata: dict[str, Any]


class InvitedSeatOut(SeatOut):
    """A seat with its invitation: only in the answers to assign and resend, the one time the
    token is shown (null with `immediate_claim`, and in a replay: `Idempotent-Withheld:
    invitation`; resend for a new one)."""

    invitation: InvitationOut | None


class SeatListOut(OutModel):
    data: list[SeatOut]
    has_more: bool
    next_cursor: str | None
    total_seats: int
    assigned_seats: int
    available_seats: int


def seat_out(seat: Seat) -> SeatOut:
    """A seat as every answer but assign's and resend's shows it: its invitation is left out
    (``SeatOut`` has no such field), as in the seat events."""
    return SeatOut.model_validate(seat, from_attributes=True)


def invited_seat_out(seat: Seat) -> InvitedSeatOut:
    return InvitedSeatOut.model_validate(seat, from_attributes=True)


def _answer_once(request: Request, seat: Seat) -> InvitedSeatOut:
    """The invitation is shown once: a replay of this answer has none."""
    answer = invited_seat_out(seat)
    if answer.invitation is not None:
        store_for_replay(
            request.scope, answer.model_copy(update={"invitation": None}), "invitation"
        )
    return answer


def _pool(subscription_id: str | None, order_id: str | None) -> tuple[str | None, str | None]:
    """The pool's ids, each checked as an id of its kind (``seats.pool_of`` says exactly one)."""
    seats.pool_of(subscription_id, order_id)
    return (
        optional_id(subscription_id, "subscription", field="subscription_id"),
        optional_id(order_id, "order", field="order_id"),
    )


async def _read_pool(
    rt: Runtime, who: Caller, subscription_id: str | None, order_id: str | None
) -> tuple[int, int]:
    """The pool's ``(seats, assigned_seats)``, read in the caller's scope (404 naming the
    field when it is not theirs)."""
    pool = await seats.get_pool(
        rt, seats.pool_of(subscription_id, order_id), scope_company_id=who.company_scope
    )
    return pool.seats, pool.assigned_seats


async def _manager_for_seat(rt: Runtime, who: Caller, seat_id: str) -> None:
    await who.manager_for(lambda: seats.get_seat(rt, seat_id, scope_company_id=who.company_scope))


@router.post(
    "/v1/seats",
    status_code=201,
    summary="Assign a seat",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def assign_seat(
    body: SeatIn, request: Request, rt: RuntimeDep, who: Writer
) -> InvitedSeatOut:
    """Answers the seat with its `invitation` (`{url, token, expires_at}`), shown this once; an
    email goes out unless `send_email: false`. `immediate_claim` claims at once (no invitation).
    409 `no_seats_available`, `already_assigned`, `order_not_paid`, `company_required`,
    `subscription_not_active`, `seat_limit_reached`."""
    subscription_id, order_id = _pool(body.subscription_id, body.order_id)
    if who.is_plain_member:
        await _read_pool(rt, who, subscription_id, order_id)
        raise Forbidden("Only the company's billing manager may do this.")
    seat = await seats.assign_seat(
        rt,
        subscription_id=subscription_id,
        order_id=order_id,
        email=body.email,
        member_id=optional_id(body.member_id, "member", field="member_id"),
        immediate_claim=body.immediate_claim,
        send_email=body.send_email,
        metadata=body.metadata,
        scope_company_id=who.company_scope,
    )
    return _answer_once(request, seat)


@router.get(
    "/v1/seats",
    summary="List the seats of a pool",
    responses=responses(401, 403, 404, 422),
)
async def list_seats(
    rt: RuntimeDep,
    who: Reader,
    subscription_id: str | None = None,
    order_id: str | None = None,
    include_revoked: bool = False,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> SeatListOut:
    """The pending and claimed seats (revoked ones too with `include_revoked=true`) of one
    subscription or order, oldest first, with the pool's counts. A plain member's session sees
    only their own seats in it."""
    subscription_id, order_id = _pool(subscription_id, order_id)
    if who.session is not None and who.is_plain_member:
        total, assigned = await _read_pool(rt, who, subscription_id, order_id)
        own = await companies.member_seats(
            rt,
            who.session.member_id,
            subscription_id=subscription_id,
            order_id=order_id,
            include_revoked=include_revoked,
        )
        return SeatListOut(
            data=[seat_out(seat) for seat in own],
            has_more=False,
            next_cursor=None,
            total_seats=total,
            assigned_seats=assigned,
            available_seats=total - assigned,
        )
    result = await seats.list_seats(
        rt,
        subscription_id=subscription_id,
        order_id=order_id,
        include_revoked=include_revoked,
        limit=limit,
        cursor=cursor_of(cursor),
        scope_company_id=who.company_scope,
    )
    return SeatListOut(
        data=[seat_out(seat) for seat in result.page.data],
        has_more=result.page.has_more,
        next_cursor=result.page.next_cursor,
        total_seats=result.total_seats,
        assigned_seats=result.assigned_seats,
        available_seats=result.available_seats,
    )


@router.get(
    "/v1/seats/{seat_id}",
    summary="Get a seat",
    responses=responses(401, 403, 404),
)
async def get_seat(seat_id: str, rt: RuntimeDep, who: Reader) -> SeatOut:
    """A plain member's session reads only the seats it holds (another's is 403)."""
    seat = await seats.get_seat(rt, check_id(seat_id, "seat"), scope_company_id=who.company_scope)
    if who.is_plain_member and (who.session is None or seat.member_id != who.session.member_id):
        raise Forbidden("A member's session reads only its own seats.")
    return seat_out(seat)


@router.delete(
    "/v1/seats/{seat_id}",
    summary="Revoke a seat",
    responses=responses(401, 403, 404),
)
async def revoke_seat(seat_id: str, rt: RuntimeDep, who: Writer) -> SeatOut:
    """The seat becomes `revoked`, its benefits are revoked, and the pool's seat is free again.
    Revoking a revoked seat answers it unchanged (with its first `revoked_at`)."""
    seat_id = check_id(seat_id, "seat")
    await _manager_for_seat(rt, who, seat_id)
    return seat_out(await seats.revoke_seat(rt, seat_id, scope_company_id=who.company_scope))


@router.post(
    "/v1/seats/{seat_id}/resend",
    summary="Resend a seat's invitation",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def resend_invitation(
    seat_id: str, request: Request, rt: RuntimeDep, who: Writer, body: ResendIn | None = None
) -> InvitedSeatOut:
    """A new token and expiry; the old token stops working. 409 `seat_not_pending` for a seat
    that is claimed or revoked."""
    seat_id = check_id(seat_id, "seat")
    await _manager_for_seat(rt, who, seat_id)
    seat = await seats.resend_invitation(
        rt,
        seat_id,
        send_email=True if body is None else body.send_email,
        scope_company_id=who.company_scope,
    )
    return _answer_once(request, seat)
