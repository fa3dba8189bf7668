"""Claims: the public end of an invitation link (SPEC §5, §6). The token is the credential.

A claim retried under the same ``Idempotency-Key`` (scoped to the token's hash) is replayed
without its secrets: ``session_token`` null and no grants (``Idempotent-Withheld``; a grant
without its license key or link would not match its type's schema). The token is used up by the
first claim, and a used token opens nothing (SPEC §5): whoever holds a used link and guesses its
key learns that the claim happened, never a session or a license. The claimer who lost the first
answer gets a session from the merchant (``POST /v1/customer-sessions``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from seatledger.api.common import OutModel, RuntimeDep, Timestamp, idempotency_key_header
from seatledger.api.grants import GrantOut, grant_out
from seatledger.api.idempotency import store_for_replay
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.api.seats import SeatOut, seat_out
from seatledger.services import seats

router = APIRouter(tags=["claims"], route_class=JsonRoute)


class InvitationViewOut(OutModel):
    seat: SeatOut
    company_name: str
    product_id: str
    product_name: str
    expires_at: Timestamp


class ClaimOut(OutModel):
    seat: SeatOut
    grants: list[GrantOut]
    session_token: str | None = Field(
        description="The claimer's customer session (24 h), shown once: null in a replay."
    )


@router.get(
    "/v1/claims/{token}",
    summary="Look an invitation up",
    responses=responses(400),
)
async def lookup_claim(token: str, rt: RuntimeDep) -> InvitationViewOut:
    """Read-only (mail scanners prefetch links): the token stays usable. 400 `invalid_token`
    for a used, expired, revoked or unknown token."""
    view = await seats.lookup_invitation(rt, token)
    return InvitationViewOut(
        seat=seat_out(view.seat),
        company_name=view.company_name,
        product_id=view.product_id,
        product_name=view.product_name,
        expires_at=view.expires_at,
    )


@router.post(
    "/v1/claims/{token}",
    summary="Claim a seat",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400),
)
async def claim_seat(token: str, request: Request, rt: RuntimeDep) -> ClaimOut:
    """The seat becomes `claimed` (the member is created when needed) and the product's benefits
    are granted. `session_token` is a customer session of the claimer (24 h): with it they read
    their seats and entitlements. The token is single use: 400 `invalid_token` afterwards. A
    replay (same `Idempotency-Key`) has no `session_token` and no `grants`."""
    claim = await seats.claim_seat(rt, token, open_session=True)
    session = claim.session
    assert session is not None  # asked for: opened in the claim's own transaction
    answer = ClaimOut(
        seat=seat_out(claim.seat),
        grants=[grant_out(grant) for grant in claim.grants],
        session_token=session.token,
    )
    withheld = answer.model_copy(update={"session_token": None, "grants": []})
    store_for_replay(request.scope, withheld, "session_token, grants")
    return answer
