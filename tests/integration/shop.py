"""A merchant's shop for billing tests, built through the services themselves: products,
companies, and subscriptions bought at checkout at the clock's time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.domain.clock import FixedClock
from seatledger.domain.invoice import Invoice
from seatledger.services import catalog, checkouts, companies, invoicing
from seatledger.services.runtime import Runtime

VOLUME = [
    {"up_to": 5, "unit_amount": 1000},
    {"up_to": 10, "unit_amount": 800},
    {"up_to": None, "unit_amount": 500},
]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def per_seat(amount: int, interval: str | None = "month", **more: Any) -> dict[str, Any]:
    return {
        "currency": "usd",
        "interval": interval,
        "tiers": [{"up_to": None, "unit_amount": amount}],
        **more,
    }


async def product(
    rt: Runtime,
    *prices: dict[str, Any],
    benefits: int = 1,
    increase: str = "invoice",
    decrease: str = "prorate",
    name: str = "Team plan",
) -> list[str]:
    """A product with ``prices`` (default: 1000 a seat a month) and ``benefits`` custom
    benefits; answers the price ids in order."""
    benefit_ids = [
        (
            await catalog.create_benefit(
                rt, type="custom", description=f"{name} note {n}", properties={"note": "Hi"}
            )
        ).id
        for n in range(benefits)
    ]
    created = await catalog.create_product(
        rt,
        name=name,
        prices=list(prices) or [per_seat(1000)],
        benefit_ids=benefit_ids,
        proration_defaults={"increase": increase, "decrease": decrease},
    )
    return [price.id for price in created.prices]


async def company(rt: Runtime, email: str = "boss@acme.test") -> str:
    return (await companies.create_company(rt, name="Acme", billing_manager_email=email)).id


async def subscribe(
    rt: Runtime,
    price_id: str,
    company_id: str,
    seats: int,
    *,
    at: datetime | None = None,
    clock: FixedClock | None = None,
    payment_method: str = "pm_card_ok",
) -> str:
    """Buy ``seats`` seats at checkout (at ``at`` when given); answers the subscription id."""
    if at is not None:
        assert clock is not None
        clock.set(at)
    checkout = await checkouts.create_checkout(
        rt, price_id=price_id, seats=seats, company_id=company_id
    )
    done = await checkouts.confirm_checkout(rt, checkout.id, payment_method=payment_method)
    assert done.subscription_id is not None
    return done.subscription_id


async def invoices(rt: Runtime, subscription_id: str) -> list[Invoice]:
    page = await invoicing.list_invoices(rt, subscription_id=subscription_id, limit=100)
    return list(page.data)


async def rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as c:
        return int(
            (await c.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        )


async def events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    return [row.payload for row in await rows(engine, t.outbox, t.outbox.c.type == kind)]


async def waiting(engine: AsyncEngine, subscription_id: str) -> list[int]:
    """Amounts of the proration lines waiting for the subscription's next invoice."""
    return [
        row.amount
        for row in await rows(
            engine,
            t.pending_lines,
            t.pending_lines.c.subscription_id == subscription_id,
            t.pending_lines.c.invoice_id.is_(None),
        )
    ]
