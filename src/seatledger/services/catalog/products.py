"""Products: a name, price versions ``1..n``, benefits in order and proration defaults."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from seatledger.adapters.db.paging import paginating
from seatledger.domain.catalog import Price, Product
from seatledger.domain.errors import NotFound
from seatledger.domain.ids import new_id
from seatledger.services.catalog.checks import (
    benefit_ids_of,
    checked_text,
    proration_defaults,
    seat_prices,
    true_up_interval,
)
from seatledger.services.catalog.payloads import product_payload
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime

MAX_NAME = 200
MAX_PRODUCT_DESCRIPTION = 5000


async def create_product(
    rt: Runtime,
    *,
    name: str,
    description: str | None = None,
    prices: Sequence[Mapping[str, Any]],
    benefit_ids: Sequence[str] = (),
    proration_defaults: Mapping[str, Any] | None = None,
) -> Product:
    """A product with its first price versions (1..n) and its benefits, in the order given."""
    product = _new_product(
        name, description, prices, benefit_ids, proration_defaults, rt.clock.now()
    )
    async with rt.transaction() as uow:
        catalog = uow.catalog
        if product.benefit_ids:
            found = await catalog.benefits_found(product.benefit_ids)
            for i, benefit_id in enumerate(product.benefit_ids):
                if benefit_id not in found:
                    raise NotFound("benefit", field=f"benefit_ids[{i}]")
        await catalog.add_product(product)
        uow.emit("product.created", product_payload(product))
        await uow.commit()
    return product


def _new_product(
    name: object,
    description: object,
    prices: object,
    benefit_ids: object,
    defaults: object,
    now: datetime,
) -> Product:
    """The product asked for, every field checked (nothing is written before this)."""
    name = checked_text(name, "name", MAX_NAME)
    if description is not None:
        description = checked_text(
            description, "description", MAX_PRODUCT_DESCRIPTION, multiline=True
        )
    checked_prices = seat_prices(prices)
    proration = proration_defaults(defaults)
    wanted = benefit_ids_of(benefit_ids)
    product_id = new_id("prod")
    return Product(
        id=product_id,
        name=name,
        description=description,
        prices=tuple(
            Price(new_id("price"), product_id, version, seat_price, None, now)
            for version, seat_price in enumerate(checked_prices, start=1)
        ),
        benefit_ids=wanted,
        proration_increase=proration["increase"],
        proration_decrease=proration["decrease"],
        created_at=now,
        true_up_interval=true_up_interval(defaults, proration["increase"], checked_prices),
    )


async def get_product(rt: Runtime, product_id: str) -> Product:
    async with rt.reading() as uow:
        products = await uow.catalog.products([product_id])
    if not products:
        raise NotFound("product")
    return products[0]


async def list_products(
    rt: Runtime, *, limit: int | None = None, cursor: str | None = None
) -> Page[Product]:
    """Products oldest first, each with every price version (archived ones included)."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        catalog = uow.catalog
        ids = await catalog.product_ids(paginating(cursor, size))
        products = await catalog.products(ids)
    return page_of(products, ids, size)


__all__ = ["create_product", "get_product", "list_products"]
