"""A pool's holders set declaratively (``PUT …/holders``) and a seat passed to another person
(``POST /v1/seats/{id}/transfer``). Rules: ``seatledger.services.holders`` and
``seatledger.services.transfers``."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StrictBool

from seatledger.api.auth import Caller, Writer
from seatledger.api.common import (
    ApiModel,
    OutModel,
    RuntimeDep,
    Text,
    idempotency_key_header,
    optional_id,
)
from seatledger.api.idempotency import store_for_replay
from seatledger.api.invoices import LineOut, line_out
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.api.seats import InvitedSeatOut, SeatOut, invited_seat_out, seat_out
from seatledger.domain.holders import MAX_HOLDERS
from seatledger.domain.ids import check_id
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef
from seatledger.services import holders, seats, transfers
from seatledger.services.holders import HoldersSync
from seatledger.services.runtime import Runtime
from seatledger.services.seat_placement import Placement

router = APIRouter(tags=["seats"], route_class=JsonRoute)


class HoldersIn(ApiModel):
    """Every person who should hold a seat of the pool, by email (any case; an address given
    twice counts once and is listed in `duplicates`)."""

    emails: list[Text] = Field(max_length=MAX_HOLDERS)
    immediate_claim: StrictBool = False
    send_email: StrictBool = True


class AssignedHolderOut(OutModel):
    email: str
    seat: InvitedSeatOut | None = Field(
        description="The new seat with its invitation (shown once); null in a preview."
    )


class HolderSeatsOut(OutModel):
    before: int
    after: int


class HoldersOut(OutModel):
    """The diff: who was assigned a seat, whose seat was revoked, who kept theirs; the pool's
    bought seats before and after (a `members` pool follows its holders); the one proration
    line a resize bills (now when `invoice_now`, else at the next renewal)."""

    preview: bool
    subscription_id: str | None
    order_id: str | None
    assigned: list[AssignedHolderOut]
    revoked: list[SeatOut]
    unchanged: list[SeatOut]
    duplicates: list[str]
    seats: HolderSeatsOut
    proration_behavior: Literal["invoice", "prorate", "next_period", "true_up"] | None
    proration: list[LineOut]
    invoice_now: bool


class TransferIn(ApiModel):
    """The next holder: `email` or `member_id` (a member of the seat's company)."""

    email: Text | None = None
    member_id: Text | None = None
    immediate_claim: StrictBool = False
    send_email: StrictBool = True


class TransferOut(OutModel):
    """The seat the next holder got (with its invitation, shown once) and the previous
    holder's seat, now revoked."""

    seat: InvitedSeatOut
    revoked: SeatOut


def _holders_out(result: HoldersSync, *, secrets: bool = True) -> HoldersOut:
    def assigned_seat(seat: Seat | None) -> InvitedSeatOut | None:
        if seat is None:
            return None
        shown = invited_seat_out(seat)
        return shown if secrets else shown.model_copy(update={"invitation": None})

    return HoldersOut(
        preview=result.preview,
        subscription_id=result.ref.id if result.ref.kind == "subscription" else None,
        order_id=result.ref.id if result.ref.kind == "order" else None,
        assigned=[
            AssignedHolderOut(email=a.email, seat=assigned_seat(a.seat)) for a in result.assigned
        ],
        revoked=[seat_out(seat) for seat in result.revoked],
        unchanged=[seat_out(seat) for seat in result.unchanged],
        duplicates=list(result.duplicates),
        seats=HolderSeatsOut(before=result.seats_before, after=result.seats_after),
        proration_behavior=result.proration_behavior,
        proration=[line_out(line) for line in result.proration],
        invoice_now=result.invoice_now,
    )


async def _put_holders(
    rt: Runtime, who: Caller, request: Request, ref: PoolRef, body: HoldersIn, preview: bool
) -> HoldersOut:
    await who.manager_for(lambda: seats.get_pool(rt, ref, scope_company_id=who.company_scope))
    scope = who.company_scope
    if preview:
        return _holders_out(
            await holders.preview_holders(rt, ref, body.emails, scope_company_id=scope)
        )
    how = Placement(immediate_claim=body.immediate_claim, send_email=body.send_email)
    result = await holders.sync_holders(rt, ref, body.emails, how=how, scope_company_id=scope)
    if any(a.seat is not None and a.seat.invitation for a in result.assigned):
        store_for_replay(request.scope, _holders_out(result, secrets=False), "invitation")
    return _holders_out(result)


_HOLDERS_DOC = """Makes the pool's live seats exactly these people, in one transaction: the
missing are assigned a seat (an invitation each, as `POST /v1/seats` makes it, or claimed at
once with `immediate_claim`), the others' seats are revoked, holders who stay keep their seat
as it is. With `?preview=true` nothing changes: the same diff and proration are answered.
Refusals change nothing: 422 `validation_error` naming each bad `emails[i]`; 409
`no_seats_available` when a fixed pool has too few seats (the detail says how many are
missing), `seat_limit_reached` past a `members` price's maximum, `company_required`,
`subscription_not_active`, `order_not_paid`."""


@router.put(
    "/v1/subscriptions/{subscription_id}/holders",
    summary="Set a subscription's seat holders",
    description=_HOLDERS_DOC
    + """ A `members` subscription's seats follow: revocations shrink it (never below the
price's minimum), assignments grow it, billed as one seat-count change with the product's
defaults (an increase is prorated onto the next renewal).""",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def set_subscription_holders(
    subscription_id: str,
    body: HoldersIn,
    request: Request,
    rt: RuntimeDep,
    who: Writer,
    preview: bool = False,
) -> HoldersOut:
    ref = PoolRef("subscription", check_id(subscription_id, "subscription"))
    return await _put_holders(rt, who, request, ref, body, preview)


@router.put(
    "/v1/orders/{order_id}/holders",
    summary="Set an order's seat holders",
    description=_HOLDERS_DOC + " An order's seat count never changes.",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def set_order_holders(
    order_id: str,
    body: HoldersIn,
    request: Request,
    rt: RuntimeDep,
    who: Writer,
    preview: bool = False,
) -> HoldersOut:
    ref = PoolRef("order", check_id(order_id, "order"))
    return await _put_holders(rt, who, request, ref, body, preview)


@router.post(
    "/v1/seats/{seat_id}/transfer",
    summary="Transfer a seat to another person",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def transfer_seat(
    seat_id: str, body: TransferIn, request: Request, rt: RuntimeDep, who: Writer
) -> TransferOut:
    """A pending or claimed seat passes to `email` or `member_id` in one transaction: the
    holder's seat is revoked with its benefits and the next holder gets a new seat of the same
    pool (an invitation, or claimed at once with `immediate_claim`); the pool's seat is never
    free in between, and nothing is billed. 409 `seat_not_pending` for a revoked seat,
    `already_assigned` when the person holds a seat of the pool; 422 for the seat's own
    holder."""
    seat_id = check_id(seat_id, "seat")
    await who.manager_for(lambda: seats.get_seat(rt, seat_id, scope_company_id=who.company_scope))
    revoked, seat = await transfers.transfer_seat(
        rt,
        seat_id,
        email=body.email,
        member_id=optional_id(body.member_id, "member", field="member_id"),
        how=Placement(immediate_claim=body.immediate_claim, send_email=body.send_email),
        scope_company_id=who.company_scope,
    )
    answer = TransferOut(seat=invited_seat_out(seat), revoked=seat_out(revoked))
    if seat.invitation is not None:
        hidden = answer.model_copy(
            update={"seat": answer.seat.model_copy(update={"invitation": None})}
        )
        store_for_replay(request.scope, hidden, "invitation")
    return answer


__all__ = ["router"]
