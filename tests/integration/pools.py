"""Rows for seat tests, written straight into the tables: a product with benefits, a company with
its billing manager, and purchased pools. (Purchase flows have their own tests.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.domain.ids import new_id
from seatledger.pricing import SeatPrice

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def seat_price(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "currency": "usd",
        "interval": "month",
        "tiers": [{"up_to": None, "unit_amount": 1000}],
    }
    data.update(overrides)
    return SeatPrice.from_mapping(data).to_mapping()


async def product(engine: AsyncEngine, *, benefits: int = 1, **price: Any) -> str:
    """A product with one price and ``benefits`` custom benefits; answers the price id."""
    product_id, price_id = new_id("prod"), new_id("price")
    definition = seat_price(**price)
    async with engine.begin() as c:
        await c.execute(
            insert(t.products).values(
                id=product_id,
                name="Team plan",
                proration_increase="invoice",
                proration_decrease="prorate",
                created_at=NOW,
            )
        )
        await c.execute(
            insert(t.prices).values(
                id=price_id,
                product_id=product_id,
                version=1,
                currency=definition["currency"],
                interval=definition["interval"],
                seat_sync=definition["seat_sync"],
                definition=definition,
                created_at=NOW,
            )
        )
        for position in range(benefits):
            benefit_id = new_id("ben")
            await c.execute(
                insert(t.benefits).values(
                    id=benefit_id,
                    type="custom",
                    description=f"Welcome note {position}",
                    properties={"note": "Welcome aboard"},
                    created_at=NOW,
                )
            )
            await c.execute(
                insert(t.product_benefits).values(
                    product_id=product_id, benefit_id=benefit_id, position=position
                )
            )
    return price_id


async def company(engine: AsyncEngine, *, manager: str = "boss@acme.test") -> tuple[str, str]:
    """A company and its billing manager: answers (company id, manager member id)."""
    company_id, member_id = new_id("co"), new_id("mem")
    async with engine.begin() as c:
        await c.execute(insert(t.companies).values(id=company_id, name="Acme", created_at=NOW))
        await c.execute(
            insert(t.members).values(
                id=member_id,
                company_id=company_id,
                email=manager,
                role="billing_manager",
                created_at=NOW,
            )
        )
    return company_id, member_id


async def member(engine: AsyncEngine, company_id: str, email: str) -> str:
    member_id = new_id("mem")
    async with engine.begin() as c:
        await c.execute(
            insert(t.members).values(
                id=member_id, company_id=company_id, email=email, role="member", created_at=NOW
            )
        )
    return member_id


async def subscription(
    engine: AsyncEngine,
    price_id: str,
    company_id: str | None,
    *,
    seats: int = 3,
    status: str = "active",
) -> str:
    subscription_id = new_id("sub")
    async with engine.begin() as c:
        await c.execute(
            insert(t.seat_pools).values(
                id=subscription_id, kind="subscription", seats=seats, created_at=NOW
            )
        )
        await c.execute(
            insert(t.subscriptions).values(
                id=subscription_id,
                company_id=company_id,
                owner_email="boss@acme.test",
                price_id=price_id,
                status=status,
                billing_anchor=NOW,
                current_period_start=NOW,
                current_period_end=NOW + timedelta(days=31),
                created_at=NOW,
            )
        )
    return subscription_id


async def order(
    engine: AsyncEngine,
    price_id: str,
    company_id: str | None,
    *,
    seats: int = 3,
    status: str = "paid",
) -> str:
    order_id = new_id("ord")
    async with engine.begin() as c:
        await c.execute(
            insert(t.seat_pools).values(id=order_id, kind="order", seats=seats, created_at=NOW)
        )
        await c.execute(
            insert(t.orders).values(
                id=order_id,
                company_id=company_id,
                owner_email="boss@acme.test",
                price_id=price_id,
                status=status,
                amount=1000 * seats,
                currency="usd",
                created_at=NOW,
            )
        )
    return order_id
