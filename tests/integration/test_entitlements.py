"""SPEC §5 entitlements: limit, used and available per company and per product."""

from __future__ import annotations

import pytest

from seatledger.domain.errors import NotFound
from seatledger.services import seats
from seatledger.services.entitlements import company_entitlements
from seatledger.services.runtime import Runtime
from tests.integration import pools


async def test_a_company_with_nothing_bought_has_no_seats(runtime: Runtime) -> None:
    company_id, _ = await pools.company(runtime.engine)
    entitlements = await company_entitlements(runtime, company_id)
    assert (entitlements.seats.limit, entitlements.seats.used) == (0, 0)
    assert entitlements.seats.available == 0
    assert entitlements.products == ()


async def test_counts_over_live_pools_only(runtime: Runtime) -> None:
    engine = runtime.engine
    price_id = await pools.product(engine)
    other_price = await pools.product(engine, interval=None)
    company_id, _ = await pools.company(engine)
    active = await pools.subscription(engine, price_id, company_id, seats=5)
    await pools.subscription(engine, price_id, company_id, seats=4, status="past_due")
    await pools.subscription(engine, price_id, company_id, seats=100, status="canceled")
    paid = await pools.order(engine, other_price, company_id, seats=3)
    await pools.order(engine, other_price, company_id, seats=50, status="pending")
    await seats.assign_seat(runtime, subscription_id=active, email="a@a.test")
    await seats.assign_seat(runtime, order_id=paid, email="a@a.test", immediate_claim=True)

    entitlements = await company_entitlements(runtime, company_id)
    assert (entitlements.seats.limit, entitlements.seats.used) == (12, 2)
    assert entitlements.seats.available == 10
    by_product = {p.product_id: p.seats for p in entitlements.products}
    assert sorted((c.limit, c.used, c.available) for c in by_product.values()) == [
        (3, 1, 2),
        (9, 1, 8),
    ]


async def test_a_members_pool_counts_as_its_maximum(runtime: Runtime) -> None:
    engine = runtime.engine
    capped = await pools.product(engine, seat_sync="members", maximum_seats=25)
    unlimited = await pools.product(engine, seat_sync="members")
    company_id, _ = await pools.company(engine)
    await pools.subscription(engine, capped, company_id, seats=2)
    entitlements = await company_entitlements(runtime, company_id)
    assert entitlements.seats.limit == 25
    await pools.subscription(engine, unlimited, company_id, seats=2)
    entitlements = await company_entitlements(runtime, company_id)
    assert (entitlements.seats.limit, entitlements.seats.available) == (None, None)


async def test_unknown_company(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        await company_entitlements(runtime, "co_nope")
