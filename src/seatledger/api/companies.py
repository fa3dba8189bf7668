"""Companies: the buyers, their entitlements and their credit balance (SPEC §3, §5, §6)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictInt

from seatledger.api.auth import MerchantWriter, Reader, Writer
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Limit,
    ListOut,
    Name,
    OutModel,
    QueryText,
    RuntimeDep,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
    optional_id,
)
from seatledger.api.hot_route import hot_get
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.company import Company
from seatledger.domain.ids import check_id
from seatledger.services import companies, credit, entitlements, seat_alerts
from seatledger.services.usage_alerts import SeatCounts

router = APIRouter(tags=["companies"], route_class=JsonRoute)


class BillingManagerIn(ApiModel):
    email: Text
    name: Name | None = None


class CompanyIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "examples": [{"name": "Acme", "billing_manager": {"email": "boss@acme.test"}}]
        }
    }

    name: Name
    external_id: Name | None = None
    billing_manager: BillingManagerIn


class CompanyPatch(ApiModel):
    name: Name | None = None
    billing_manager_member_id: Text | None = None


class CompanyOut(OutModel):
    id: str
    name: str
    external_id: str | None
    billing_manager_member_id: str
    created_at: Timestamp


class SeatCountsOut(OutModel):
    limit: int | None
    used: int
    available: int | None


class ProductSeatsOut(OutModel):
    product_id: str
    seats: SeatCountsOut


class EntitlementsOut(OutModel):
    seats: SeatCountsOut
    products: list[ProductSeatsOut]


class BalanceOut(OutModel):
    currency: str
    amount: int


class BalancesOut(OutModel):
    data: list[BalanceOut]


def company_out(company: Company) -> CompanyOut:
    return CompanyOut.model_validate(company, from_attributes=True)


def counts_out(counts: SeatCounts) -> SeatCountsOut:
    return SeatCountsOut.model_validate(counts, from_attributes=True)


@router.post(
    "/v1/companies",
    status_code=201,
    summary="Create a company with its billing manager",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 409, 422),
)
async def create_company(body: CompanyIn, rt: RuntimeDep, _: MerchantWriter) -> CompanyOut:
    """Every purchase bought before with the billing manager's email (case-insensitively)
    attaches to the new company. 409 `external_id_taken` when another company has the
    `external_id`."""
    company = await companies.create_company(
        rt,
        name=body.name,
        external_id=body.external_id,
        billing_manager_email=body.billing_manager.email,
        billing_manager_name=body.billing_manager.name,
    )
    return company_out(company)


@router.get(
    "/v1/companies",
    summary="List companies",
    responses=responses(401, 403, 422),
)
async def list_companies(
    rt: RuntimeDep,
    who: Reader,
    external_id: Annotated[
        QueryText, Query(max_length=200, description="The company with this `external_id`.")
    ] = None,
    email: Annotated[
        QueryText,
        Query(
            max_length=254,
            description="Companies where a current member has this email (any case).",
        ),
    ] = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[CompanyOut]:
    """Newest first; the filters given must all hold. A billing manager's session lists its
    own company alone."""
    who.require_manager()
    page = await companies.list_companies(
        rt,
        external_id=external_id,
        email=email,
        limit=limit,
        cursor=cursor_of(cursor),
        scope_company_id=who.company_scope,
    )
    return ListOut[CompanyOut](**list_of(page, company_out))


@router.get(
    "/v1/companies/{company_id}",
    summary="Get a company",
    responses=responses(401, 403, 404),
)
async def get_company(company_id: str, rt: RuntimeDep, who: Reader) -> CompanyOut:
    company_id = check_id(company_id, "company")
    who.manager_of(company_id)
    return company_out(await companies.get_company(rt, company_id))


@router.patch(
    "/v1/companies/{company_id}",
    summary="Rename a company or hand the billing manager role over",
    responses=responses(400, 401, 403, 404, 422),
)
async def update_company(
    company_id: str, body: CompanyPatch, rt: RuntimeDep, who: Writer
) -> CompanyOut:
    """`billing_manager_member_id` names a current member, who becomes the billing manager; the
    previous one stays a plain member."""
    company_id = check_id(company_id, "company")
    who.merchant_only(company_id)
    company = await companies.update_company(
        rt,
        company_id,
        name=body.name,
        billing_manager_member_id=optional_id(
            body.billing_manager_member_id, "member", field="billing_manager_member_id"
        ),
    )
    return company_out(company)


@hot_get(
    router,
    "/v1/companies/{company_id}/entitlements",
    summary="A company's seat entitlements",
    responses=responses(401, 403, 404),
)
async def get_company_entitlements(company_id: str, rt: RuntimeDep, who: Reader) -> EntitlementsOut:
    """Seat `limit` (null: unlimited; 0 when nothing is bought), `used` (pending + claimed) and
    `available`, over paid orders and subscriptions that are not canceled; per product too."""
    company_id = check_id(company_id, "company")
    who.manager_of(company_id)
    result = await entitlements.company_entitlements(rt, company_id)
    return EntitlementsOut(
        seats=counts_out(result.seats),
        products=[
            ProductSeatsOut(product_id=product.product_id, seats=counts_out(product.seats))
            for product in result.products
        ],
    )


@router.get(
    "/v1/companies/{company_id}/balance",
    summary="A company's credit balance",
    responses=responses(401, 403, 404),
)
async def get_company_balance(company_id: str, rt: RuntimeDep, who: Reader) -> BalancesOut:
    """Credit per currency (a positive amount); currencies without credit are left out."""
    company_id = check_id(company_id, "company")
    who.manager_of(company_id)
    balances = await credit.company_balance(rt, company_id, scope_company_id=who.company_scope)
    return BalancesOut(
        data=[BalanceOut(currency=item.currency, amount=item.amount) for item in balances]
    )


class SeatAlertsIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {"examples": [{"product_id": "prod_…", "thresholds": [80, 100]}]}
    }

    product_id: str
    thresholds: list[StrictInt] = Field(
        description="Percent of the product's seat limit, 1–100, distinct, at most 5; [] removes."
    )


class ProductSeatAlertsOut(OutModel):
    product_id: str
    thresholds: list[int]


class SeatAlertsOut(OutModel):
    data: list[ProductSeatAlertsOut]


def _seat_alerts_out(alerts: list[seat_alerts.ProductAlerts]) -> SeatAlertsOut:
    return SeatAlertsOut(
        data=[
            ProductSeatAlertsOut(product_id=a.product_id, thresholds=list(a.thresholds))
            for a in alerts
        ]
    )


@router.put(
    "/v1/companies/{company_id}/seat-alerts",
    summary="Set a company's seat alerts for a product",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def set_seat_alerts(
    company_id: str, body: SeatAlertsIn, rt: RuntimeDep, who: Writer
) -> SeatAlertsOut:
    """Thresholds on `used / limit` of the company's seats of one product: reaching one
    (`used × 100 ≥ threshold × limit`) emits `seat.usage_threshold_reached` and emails the
    billing manager, once per crossing; it is told again only after usage fell below it.
    Thresholds already reached when set are armed silently. Answers every product's.
    An API key, or the company's billing manager's session (the emails are theirs)."""
    company_id = check_id(company_id, "company")
    who.manager_of(company_id)
    product_id = check_id(body.product_id, "product", field="product_id")
    alerts = await seat_alerts.set_seat_alerts(rt, company_id, product_id, body.thresholds)
    return _seat_alerts_out(alerts)


@router.get(
    "/v1/companies/{company_id}/seat-alerts",
    summary="A company's seat alerts",
    responses=responses(401, 403, 404),
)
async def list_seat_alerts(company_id: str, rt: RuntimeDep, who: Reader) -> SeatAlertsOut:
    """The company's thresholds per product (none until set)."""
    company_id = check_id(company_id, "company")
    who.manager_of(company_id)
    return _seat_alerts_out(await seat_alerts.list_seat_alerts(rt, company_id))
