"""The migrations build exactly the tables the code maps, and the constraints hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t

NOW = datetime(2027, 1, 1, tzinfo=UTC)


async def test_migrations_match_the_tables(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), t.metadata)
        )
    assert diff == []


async def _company_with_pools(engine: AsyncEngine) -> None:
    async with engine.begin() as c:
        await c.execute(insert(t.companies).values(id="co_1", name="Acme", created_at=NOW))
        await c.execute(
            insert(t.products).values(
                id="prod_1",
                name="P",
                proration_increase="invoice",
                proration_decrease="prorate",
                created_at=NOW,
            )
        )
        await c.execute(
            insert(t.prices).values(
                id="price_1",
                product_id="prod_1",
                version=1,
                currency="usd",
                interval="month",
                seat_sync="manual",
                definition={"currency": "usd"},
                created_at=NOW,
            )
        )
        await c.execute(
            insert(t.seat_pools).values(id="ord_1", kind="order", seats=2, created_at=NOW)
        )
        await c.execute(
            insert(t.orders).values(
                id="ord_1",
                company_id="co_1",
                owner_email="boss@acme.test",
                price_id="price_1",
                status="paid",
                amount=100,
                currency="usd",
                created_at=NOW,
            )
        )


def _seat(**values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "seat_x",
        "company_id": "co_1",
        "pool_id": "ord_1",
        "email": "a@acme.test",
        "status": "pending",
        "metadata": {},
        "created_at": NOW,
    }
    row.update(values)
    return row


async def _rejects(engine: AsyncEngine, statement: object) -> None:
    with pytest.raises((IntegrityError, DBAPIError)):
        async with engine.begin() as c:
            await c.execute(statement)  # type: ignore[call-overload]


async def test_a_seat_belongs_to_exactly_one_pool(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)
    await _rejects(engine, insert(t.seats).values(_seat(pool_id=None)))


async def test_one_live_seat_per_email_in_a_pool(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)
    async with engine.begin() as c:
        await c.execute(insert(t.seats).values(_seat(id="seat_1", status="revoked")))
        await c.execute(insert(t.seats).values(_seat(id="seat_2")))
    await _rejects(engine, insert(t.seats).values(_seat(id="seat_3")))


async def test_assigned_seats_never_exceed_purchased(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)
    await _rejects(engine, update(t.seat_pools).values(assigned_seats=3))
    await _rejects(engine, update(t.seat_pools).values(seats=0))


async def test_one_billing_manager_per_company(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)

    def member(member_id: str, email: str) -> dict[str, object]:
        return {
            "id": member_id,
            "company_id": "co_1",
            "email": email,
            "role": "billing_manager",
            "created_at": NOW,
        }

    async with engine.begin() as c:
        await c.execute(insert(t.members).values(member("mem_1", "a@acme.test")))
    await _rejects(engine, insert(t.members).values(member("mem_2", "b@acme.test")))


async def test_emails_are_stored_lowercase(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)
    await _rejects(engine, insert(t.seats).values(_seat(email="A@acme.test")))


async def test_a_price_definition_never_changes(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)
    await _rejects(engine, update(t.prices).values(definition={"currency": "eur"}))
    async with engine.begin() as c:  # archiving is the one change a price accepts
        await c.execute(update(t.prices).values(archived_at=NOW))
        archived = (await c.execute(text("SELECT archived_at FROM prices"))).scalar_one()
    assert archived is not None


async def test_amounts_are_never_negative(engine: AsyncEngine) -> None:
    await _company_with_pools(engine)
    await _rejects(engine, update(t.orders).values(amount=-1))
