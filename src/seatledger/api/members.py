"""Members of a company, and what a member holds (SPEC §5, §6)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response

from seatledger.api.auth import Reader, Writer
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Limit,
    ListOut,
    Name,
    OutModel,
    RuntimeDep,
    Text,
    cursor_of,
    idempotency_key_header,
    list_of,
)
from seatledger.api.grants import GrantOut, grant_out
from seatledger.api.hot_route import hot_get
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.company import Member
from seatledger.domain.ids import check_id
from seatledger.services import companies, grants

router = APIRouter(tags=["members"], route_class=JsonRoute)


class MemberIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {"examples": [{"email": "ann@acme.test", "name": "Ann"}]}
    }

    email: Text
    name: Name | None = None
    external_id: Name | None = None


class MemberOut(OutModel):
    id: str
    company_id: str
    email: str
    name: str | None
    external_id: str | None
    role: Literal["billing_manager", "member"]


class HeldProductOut(OutModel):
    product_id: str
    name: str
    seat_ids: list[str]
    benefits: list[GrantOut]


class MemberEntitlementsOut(OutModel):
    member_id: str
    company_id: str
    products: list[HeldProductOut]


def member_out(member: Member) -> MemberOut:
    return MemberOut.model_validate(member, from_attributes=True)


@router.get(
    "/v1/companies/{company_id}/members",
    summary="List a company's members",
    responses=responses(401, 403, 404, 422),
)
async def list_members(
    company_id: str,
    rt: RuntimeDep,
    who: Reader,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[MemberOut]:
    """Current members, oldest first (removed ones are left out)."""
    company_id = check_id(company_id, "company")
    who.manager_of(company_id)
    page = await companies.list_members(rt, company_id, limit=limit, cursor=cursor_of(cursor))
    return ListOut[MemberOut](**list_of(page, member_out))


@router.post(
    "/v1/companies/{company_id}/members",
    status_code=201,
    summary="Add a member",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def add_member(company_id: str, body: MemberIn, rt: RuntimeDep, who: Writer) -> MemberOut:
    """A plain member; seats already assigned to that email in the company become theirs. 409
    `already_member` when a current member has the email."""
    company_id = check_id(company_id, "company")
    who.merchant_only(company_id)
    member = await companies.add_member(
        rt, company_id, email=body.email, name=body.name, external_id=body.external_id
    )
    return member_out(member)


@router.delete(
    "/v1/companies/{company_id}/members/{member_id}",
    status_code=204,
    summary="Remove a member",
    response_class=Response,
    responses=responses(401, 403, 404, 409),
)
async def remove_member(company_id: str, member_id: str, rt: RuntimeDep, who: Writer) -> Response:
    """Every seat the member holds is revoked, with its benefits. The billing manager cannot be
    removed (409 `billing_manager_required`): hand the role over first."""
    company_id = check_id(company_id, "company")
    who.merchant_only(company_id)
    await companies.remove_member(rt, company_id, check_id(member_id, "member"))
    return Response(status_code=204)


@hot_get(
    router,
    "/v1/members/{member_id}/entitlements",
    summary="What a member holds",
    responses=responses(401, 403, 404),
)
async def get_member_entitlements(
    member_id: str, rt: RuntimeDep, who: Reader
) -> MemberEntitlementsOut:
    """The products a member holds through claimed seats, with their live benefit grants; file
    downloads carry a signed link valid for one hour. A member's own session may read it, and so
    may their company's billing manager."""
    member_id = check_id(member_id, "member")
    if who.session is not None and who.session.member_id != member_id:
        await companies.get_member(rt, member_id, company_id=who.session.company_id)
        who.require_manager()
    held = await grants.member_entitlements(rt, member_id)
    return MemberEntitlementsOut(
        member_id=held.member_id,
        company_id=held.company_id,
        products=[
            HeldProductOut(
                product_id=product.product_id,
                name=product.name,
                seat_ids=list(product.seat_ids),
                benefits=[grant_out(grant) for grant in product.benefits],
            )
            for product in held.products
        ],
    )
