"""Batches big enough for the bulk path (``COPY`` on PostgreSQL): same rows, same transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.bulk import COPY_FROM, insert_rows
from seatledger.domain.clock import FixedClock
from seatledger.services import renewals
from seatledger.services.runtime import Runtime
from tests.integration import pools, shop
from tests.integration.shop import utc

MANY = 2 * COPY_FROM + 7


async def _count_in(connection: AsyncConnection) -> int:
    return int(
        (await connection.execute(select(func.count()).select_from(t.companies))).scalar_one()
    )


async def test_a_big_batch_of_renewals(runtime: Runtime, clock: FixedClock) -> None:
    price_id = await pools.product(runtime.engine)
    company_id, _ = await pools.company(runtime.engine)
    start = utc(2027, 1, 1)
    subs = [f"sub_many{i:04d}" for i in range(MANY)]
    async with runtime.engine.begin() as c:
        await c.execute(
            insert(t.seat_pools),
            [
                {"id": sub_id, "kind": "subscription", "seats": 1 + i % 4, "created_at": start}
                for i, sub_id in enumerate(subs)
            ],
        )
        await c.execute(
            insert(t.subscriptions),
            [
                {
                    "id": sub_id,
                    "company_id": company_id,
                    "owner_email": "boss@acme.test",
                    "price_id": price_id,
                    "status": "active",
                    "billing_anchor": start,
                    "current_period_start": start,
                    "current_period_end": utc(2027, 2, 1),
                    "payment_method": "pm_card_ok",
                    "created_at": start,
                }
                for i, sub_id in enumerate(subs)
            ],
        )
    clock.set(utc(2027, 2, 1) + timedelta(minutes=5))
    assert await renewals.renew_due(runtime) == subs
    invoices = sorted(await shop.rows(runtime.engine, t.invoices), key=lambda row: row.number or "")
    assert [row.number for row in invoices] == [f"INV-{n:06d}" for n in range(1, MANY + 1)]
    assert [row.subscription_id for row in invoices] == subs
    assert {(row.status, row.period_start, row.period_end) for row in invoices} == {
        ("paid", utc(2027, 2, 1), utc(2027, 3, 1))
    }
    assert [row.total for row in invoices] == [1000 * (1 + i % 4) for i in range(MANY)]
    lines = await shop.rows(runtime.engine, t.invoice_lines)
    assert sorted((row.invoice_id, row.amount) for row in lines) == sorted(
        (row.id, row.total) for row in invoices
    )
    payments = await shop.rows(runtime.engine, t.payments)
    assert sorted((p.invoice_id, p.amount, p.status) for p in payments) == sorted(
        (row.id, row.total, "succeeded") for row in invoices
    )


async def test_bulk_rows_go_with_the_transaction(runtime: Runtime) -> None:
    now = utc(2027, 1, 1)
    rows = [{"id": f"co_bulk{i}", "name": "Acme", "created_at": now} for i in range(MANY)]
    async with runtime.transaction() as uow:
        await insert_rows(uow.connection, t.companies, rows)
        assert await _count_in(uow.connection) == MANY
    assert await shop.count(runtime.engine, t.companies) == 0  # rolled back with the rest
    async with runtime.transaction() as uow:
        await insert_rows(uow.connection, t.companies, rows)
        await uow.commit()
    [first] = await shop.rows(runtime.engine, t.companies, t.companies.c.id == "co_bulk0")
    assert first.created_at == now
    assert await shop.count(runtime.engine, t.companies) == MANY
