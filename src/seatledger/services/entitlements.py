"""Company entitlements: how many seats the company may hand out, per product and in all.

Counted over paid orders and subscriptions that are not canceled (``past_due`` and
cancel-at-period-end still count). ``limit`` is None when unlimited; ``used`` is pending plus
claimed seats; ``available = limit − used`` (None when unlimited). A ``members`` pool grows on
demand, so it counts as its ``maximum_seats`` (None: unlimited).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CompoundSelect, Table, select, union_all

from seatledger.adapters.db import tables as t
from seatledger.domain.errors import NotFound
from seatledger.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class SeatCounts:
    limit: int | None
    used: int

    @property
    def available(self) -> int | None:
        return None if self.limit is None else self.limit - self.used

    def __add__(self, other: SeatCounts) -> SeatCounts:
        limit = None if self.limit is None or other.limit is None else self.limit + other.limit
        return SeatCounts(limit, self.used + other.used)


@dataclass(frozen=True, slots=True)
class ProductEntitlement:
    product_id: str
    seats: SeatCounts


@dataclass(frozen=True, slots=True)
class CompanyEntitlements:
    company_id: str
    seats: SeatCounts
    products: tuple[ProductEntitlement, ...]


def _columns(table: Table) -> tuple[Any, ...]:
    """The same projection of both owners' pools."""
    return (
        t.seat_pools.c.seats,
        t.seat_pools.c.assigned_seats,
        t.prices.c.product_id,
        t.prices.c.seat_sync,
        t.prices.c.definition,
    )


def _pools(company_id: str) -> CompoundSelect[Any]:
    subscriptions = (
        select(*_columns(t.subscriptions))
        .join(t.seat_pools, t.seat_pools.c.id == t.subscriptions.c.id)
        .join(t.prices, t.prices.c.id == t.subscriptions.c.price_id)
        .where(t.subscriptions.c.company_id == company_id, t.subscriptions.c.status != "canceled")
    )
    orders = (
        select(*_columns(t.orders))
        .join(t.seat_pools, t.seat_pools.c.id == t.orders.c.id)
        .join(t.prices, t.prices.c.id == t.orders.c.price_id)
        .where(t.orders.c.company_id == company_id, t.orders.c.status == "paid")
    )
    return union_all(subscriptions, orders)


async def company_entitlements(rt: Runtime, company_id: str) -> CompanyEntitlements:
    async with rt.reading() as uow:
        connection = uow.connection
        exists = (
            await connection.execute(select(t.companies.c.id).where(t.companies.c.id == company_id))
        ).first()
        if exists is None:
            raise NotFound("company")
        rows = (await connection.execute(_pools(company_id))).all()
    per_product: dict[str, SeatCounts] = {}
    for row in rows:
        limit = row.seats
        if row.seat_sync == "members":
            limit = row.definition.get("maximum_seats")
        counts = SeatCounts(limit, row.assigned_seats)
        previous = per_product.get(row.product_id)
        per_product[row.product_id] = counts if previous is None else previous + counts
    total = SeatCounts(0, 0)
    for counts in per_product.values():
        total = total + counts
    return CompanyEntitlements(
        company_id=company_id,
        seats=total,
        products=tuple(
            ProductEntitlement(product_id, counts)
            for product_id, counts in sorted(per_product.items())
        ),
    )
