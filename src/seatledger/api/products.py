"""Products and their price versions (SPEC §2, §6): merchant only."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import Field, StrictInt

from seatledger.api.auth import MerchantReader, MerchantWriter
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Description,
    Limit,
    ListOut,
    Name,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.catalog import Price, Product, ProrationBehavior
from seatledger.domain.ids import check_id
from seatledger.services import catalog

router = APIRouter(tags=["products"], route_class=JsonRoute)

PRICE_EXAMPLE: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers_mode": "volume",
    "tiers": [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
}


class TierIn(ApiModel):
    up_to: StrictInt | None
    unit_amount: StrictInt
    flat_amount: StrictInt = 0


class PriceIn(ApiModel):
    """A seat price (SPEC §2). Amounts are integers in the currency's minor unit."""

    model_config = ApiModel.model_config | {"json_schema_extra": {"examples": [PRICE_EXAMPLE]}}

    currency: Text
    interval: Literal["month", "year"] | None
    tiers_mode: Literal["volume", "graduated"] = "volume"
    tiers: list[TierIn]
    base_amount: StrictInt = 0
    included_seats: StrictInt = 0
    minimum_seats: StrictInt = 1
    maximum_seats: StrictInt | None = None
    seat_sync: Literal["manual", "members"] = "manual"
    trial_days: StrictInt | None = Field(
        default=None,
        description="A free trial of this many days (1 to 730) before the first charged period;"
        " recurring prices only.",
    )


class ProrationDefaults(ApiModel):
    """How a change bills when it asks for no `proration_behavior`. `increase` defaults to
    `invoice`; `decrease` to `prorate`, or to `next_period` (the only one allowed) when
    increases are `true_up`. `true_up_interval: "quarter"` (yearly prices only, with `true_up`
    increases) invoices an annual subscription's true-up at the end of each quarter."""

    increase: ProrationBehavior | None = None
    decrease: Literal["invoice", "prorate", "next_period"] | None = None
    true_up_interval: Literal["quarter"] | None = None


class ProductIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {"examples": [{"name": "Team plan", "prices": [PRICE_EXAMPLE]}]}
    }

    name: Name
    description: Description | None = None
    prices: list[PriceIn]
    benefit_ids: list[Text] | None = None
    proration_defaults: ProrationDefaults | None = None


class TierOut(OutModel):
    up_to: int | None
    unit_amount: int
    flat_amount: int


class PriceOut(OutModel):
    id: str
    product_id: str
    version: int
    currency: str
    interval: Literal["month", "year"] | None
    tiers_mode: Literal["volume", "graduated"]
    tiers: list[TierOut]
    base_amount: int
    included_seats: int
    minimum_seats: int
    maximum_seats: int | None
    seat_sync: Literal["manual", "members"]
    trial_days: int | None
    archived: bool
    archived_at: Timestamp | None
    created_at: Timestamp


class ProrationDefaultsOut(OutModel):
    increase: ProrationBehavior
    decrease: ProrationBehavior
    true_up_interval: Literal["quarter"] | None


class ProductOut(OutModel):
    id: str
    name: str
    description: str | None
    prices: list[PriceOut]
    benefit_ids: list[str]
    proration_defaults: ProrationDefaultsOut
    created_at: Timestamp


def price_out(price: Price) -> PriceOut:
    return PriceOut(
        id=price.id,
        product_id=price.product_id,
        version=price.version,
        **price.seat_price.to_mapping(),
        archived=price.archived,
        archived_at=price.archived_at,
        created_at=price.created_at,
    )


def product_out(product: Product) -> ProductOut:
    return ProductOut(
        id=product.id,
        name=product.name,
        description=product.description,
        prices=[price_out(price) for price in product.prices],
        benefit_ids=list(product.benefit_ids),
        proration_defaults=ProrationDefaultsOut(
            increase=product.proration_increase,
            decrease=product.proration_decrease,
            true_up_interval=product.true_up_interval,
        ),
        created_at=product.created_at,
    )


def _price_mapping(price: PriceIn) -> dict[str, Any]:
    return price.model_dump()


@router.post(
    "/v1/products",
    status_code=201,
    summary="Create a product with its prices",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409, 422),
)
async def create_product(body: ProductIn, rt: RuntimeDep, _: MerchantWriter) -> ProductOut:
    """Prices are versions 1…n, in the order given; `benefit_ids` name benefits created before
    (an unknown one is a 404 naming its place in the list)."""
    product = await catalog.create_product(
        rt,
        name=body.name,
        description=body.description,
        prices=[_price_mapping(price) for price in body.prices],
        benefit_ids=[
            check_id(benefit_id, "benefit", field=f"benefit_ids[{i}]")
            for i, benefit_id in enumerate(body.benefit_ids or ())
        ],
        proration_defaults=None
        if body.proration_defaults is None
        else body.proration_defaults.model_dump(exclude_none=True),
    )
    return product_out(product)


@router.get(
    "/v1/products",
    summary="List products",
    responses=responses(401, 403, 422),
)
async def list_products(
    rt: RuntimeDep, _: MerchantReader, limit: Limit = None, cursor: CursorParam = None
) -> ListOut[ProductOut]:
    """Oldest first, each with every price version (archived ones included)."""
    page = await catalog.list_products(rt, limit=limit, cursor=cursor_of(cursor))
    return ListOut[ProductOut](**list_of(page, product_out))


@router.get(
    "/v1/products/{product_id}",
    summary="Get a product",
    responses=responses(401, 403, 404),
)
async def get_product(product_id: str, rt: RuntimeDep, _: MerchantReader) -> ProductOut:
    return product_out(await catalog.get_product(rt, check_id(product_id, "product")))


@router.post(
    "/v1/products/{product_id}/prices",
    status_code=201,
    summary="Add a price version",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def add_price(product_id: str, body: PriceIn, rt: RuntimeDep, _: MerchantWriter) -> PriceOut:
    """Prices are never edited: a new one is the next version of the product."""
    price = await catalog.add_price(rt, check_id(product_id, "product"), _price_mapping(body))
    return price_out(price)


@router.post(
    "/v1/prices/{price_id}/archive",
    summary="Archive a price",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(401, 403, 404),
)
async def archive_price(price_id: str, rt: RuntimeDep, _: MerchantWriter) -> PriceOut:
    """No new purchase may use it (409 `price_archived`); subscriptions on it keep it.
    Archiving again answers the price as first archived."""
    return price_out(await catalog.archive_price(rt, check_id(price_id, "price")))
