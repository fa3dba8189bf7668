"""Company entitlements: how many seats the company may hand out, per product and in all.

Counted over paid orders and subscriptions that are not canceled (``past_due`` and
cancel-at-period-end still count). ``limit`` is None when unlimited; ``used`` is pending plus
claimed seats; ``available = limit − used`` (None when unlimited). A ``members`` pool grows on
demand, so it counts as its ``maximum_seats`` (None: unlimited).
"""

from __future__ import annotations

from dataclasses import dataclass

from seatledger.domain.errors import NotFound
from seatledger.services.runtime import Runtime
from seatledger.services.usage_alerts import SeatCounts, product_counts


@dataclass(frozen=True, slots=True)
class ProductEntitlement:
    product_id: str
    seats: SeatCounts


@dataclass(frozen=True, slots=True)
class CompanyEntitlements:
    company_id: str
    seats: SeatCounts
    products: tuple[ProductEntitlement, ...]


async def company_entitlements(rt: Runtime, company_id: str) -> CompanyEntitlements:
    async with rt.reading() as uow:
        pools = await uow.live_pools.of(company_id)
    if pools is None:
        raise NotFound("company")
    per_product = product_counts(pools)
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
