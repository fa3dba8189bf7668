"""Price versions of a product: added (highest version plus one), read, archived; never edited."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import Price
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.ids import new_id
from seatledger.pricing import SeatPrice
from seatledger.services.catalog.payloads import price_payload
from seatledger.services.runtime import Runtime


async def add_price(rt: Runtime, product_id: str, price: Mapping[str, Any]) -> Price:
    """A new price version of the product: the highest version so far, plus one."""
    seat_price = SeatPrice.from_mapping(price)
    now = rt.clock.now()
    async with rt.transaction() as uow:
        catalog = uow.catalog
        # Lock the product row first, then read the highest version in a statement of its own
        # (on PostgreSQL a statement sees the rows committed before it began): two versions
        # added at once get distinct numbers.
        if not await catalog.lock_product(product_id):
            raise NotFound("product")
        if seat_price.interval != "year":
            await _check_true_up(uow, product_id)
        version = await catalog.latest_version(product_id) + 1
        added = Price(new_id("price"), product_id, version, seat_price, None, now)
        await catalog.add_price(added)
        uow.emit("price.created", price_payload(added))
        await uow.commit()
    return added


async def _check_true_up(uow: UnitOfWork, product_id: str) -> None:
    """A product trued up quarterly sells yearly prices only (a quarter of a month is none)."""
    (product,) = await uow.catalog.products([product_id])
    if product.true_up_interval is not None:
        raise ValidationFailed.field("interval", "must be year: the product's true-up is quarterly")


async def get_price(rt: Runtime, price_id: str) -> Price:
    async with rt.reading() as uow:
        price = await uow.catalog.price(price_id)
    if price is None:
        raise NotFound("price")
    return price


async def archive_price(rt: Runtime, price_id: str) -> Price:
    """Archive a price: no new purchases on it; existing ones keep it. Archiving again answers
    the price as first archived and emits nothing."""
    async with rt.transaction() as uow:
        catalog = uow.catalog
        price = await catalog.archive_price(price_id, rt.clock.now())
        if price is None:
            price = await catalog.price(price_id)
            if price is None:
                raise NotFound("price")
            return price
        uow.emit("price.archived", price_payload(price))
        await uow.commit()
    return price


__all__ = ["add_price", "archive_price", "get_price"]
