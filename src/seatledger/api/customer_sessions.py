"""Customer sessions: a token that lets one member use the portal and the API (SPEC §6)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from seatledger.api.auth import MerchantWriter
from seatledger.api.common import (
    ApiModel,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    check_id,
    idempotency_key_header,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.services import customer_sessions

router = APIRouter(tags=["customer sessions"], route_class=JsonRoute)


class CustomerSessionIn(ApiModel):
    member_id: Text


class CustomerSessionOut(OutModel):
    id: str
    member_id: str
    company_id: str
    token: str
    portal_url: str
    expires_at: Timestamp


@router.post(
    "/v1/customer-sessions",
    status_code=201,
    summary="Create a customer session for a member",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def create_customer_session(
    body: CustomerSessionIn, rt: RuntimeDep, _: MerchantWriter
) -> CustomerSessionOut:
    """The token (shown once, valid 24 h) is sent as `Authorization: Bearer cs_…`; `portal_url`
    opens the customer portal with it. The billing manager's session may buy, change and cancel
    subscriptions, and assign, resend and revoke seats in their company; a plain member's reads
    their own seats and entitlements."""
    session = await customer_sessions.create_customer_session(
        rt, check_id(body.member_id, "member", field="member_id")
    )
    return CustomerSessionOut(
        id=session.id,
        member_id=session.member_id,
        company_id=session.company_id,
        token=session.token,
        portal_url=session.portal_url,
        expires_at=session.expires_at,
    )
