"""Customer sessions: a token that lets one member use the portal and the API (SPEC §6)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from seatledger.api.auth import MerchantWriter
from seatledger.api.common import (
    ApiModel,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    idempotency_key_header,
)
from seatledger.api.idempotency import store_for_replay
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.ids import check_id
from seatledger.services import customer_sessions

router = APIRouter(tags=["customer sessions"], route_class=JsonRoute)


class CustomerSessionIn(ApiModel):
    member_id: Text


class CustomerSessionOut(OutModel):
    id: str
    member_id: str
    company_id: str
    token: str | None = Field(
        description="`cs_…`, shown once: null in a replay (`Idempotent-Withheld`)."
    )
    portal_url: str | None = Field(
        description="The portal, opened with the token: null in a replay, like the token."
    )
    expires_at: Timestamp


@router.post(
    "/v1/customer-sessions",
    status_code=201,
    summary="Create a customer session for a member",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def create_customer_session(
    body: CustomerSessionIn, request: Request, rt: RuntimeDep, _: MerchantWriter
) -> CustomerSessionOut:
    """The token (shown once, valid 24 h) is sent as `Authorization: Bearer cs_…`; `portal_url`
    opens the customer portal with it. The billing manager's session may buy, change and cancel
    subscriptions, and assign, resend and revoke seats in their company; a plain member's reads
    their own seats and entitlements. A replay (same `Idempotency-Key`) answers the session
    without its token: create another."""
    session = await customer_sessions.create_customer_session(
        rt, check_id(body.member_id, "member", field="member_id")
    )
    answer = CustomerSessionOut(
        id=session.id,
        member_id=session.member_id,
        company_id=session.company_id,
        token=session.token,
        portal_url=session.portal_url,
        expires_at=session.expires_at,
    )
    withheld = answer.model_copy(update={"token": None, "portal_url": None})
    store_for_replay(request.scope, withheld, "token, portal_url")
    return answer
