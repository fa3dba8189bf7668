"""Renewals: 10,000 due subscriptions renewed by ``renew_due`` (what the worker runs), on
PostgreSQL and on SQLite.

Each subscription renews exactly once: its invoice is numbered and written with its lines, its
period advances, a tenth of them bill a waiting proration line, a twentieth use a credit
balance, every payment is taken (local gateway) and recorded, and every event goes to the
outbox — the whole path, in batches of ``renewals.BATCH_SIZE``. The figure is the best of
``ROUNDS`` runs, each on a fresh database.

PostgreSQL: ``SEATLEDGER_BENCH_DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/seatledger_bench``), created when missing; its
``public`` schema is dropped and rebuilt by the migrations on every run. When that server cannot
be reached, the PostgreSQL figure is skipped and says why.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.postgres import unreachable
from seatledger.adapters.db import migrations
from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.config import Settings, sync_database_url
from seatledger.domain.clock import FixedClock
from seatledger.pricing import SeatPrice
from seatledger.services import renewals
from seatledger.services.runtime import Runtime

SUBSCRIPTIONS = 10_000
ROUNDS = 3  # best of: the machine is shared, one slow round says little
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/seatledger_bench"
START = datetime(2027, 1, 1, tzinfo=UTC)
DUE = datetime(2027, 2, 1, tzinfo=UTC)
CREDIT = 700  # minor units, on every 20th company
PRORATION = 516  # a waiting line on every 10th subscription
PRICE = SeatPrice.from_mapping(
    {
        "currency": "usd",
        "interval": "month",
        "tiers_mode": "volume",
        "tiers": [
            {"up_to": 5, "unit_amount": 1000},
            {"up_to": 10, "unit_amount": 800},
            {"up_to": None, "unit_amount": 500},
        ],
    }
)


def _fresh_postgres(url: str) -> None:
    """Create the database when missing, and give it an empty ``public`` schema."""
    sync_url = make_url(sync_database_url(url))
    admin = create_sync_engine(sync_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": sync_url.database}
        ).first()
        if exists is None:
            c.execute(text(f'CREATE DATABASE "{sync_url.database}"'))
    admin.dispose()
    engine = create_sync_engine(sync_url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


async def seed_due_subscriptions(engine: AsyncEngine, n: int) -> None:
    """A product, ``n`` companies with their billing manager, each with a subscription of 1–15
    seats due at ``DUE``, paid with ``pm_card_ok``; a waiting proration line on every 10th
    subscription and credit on every 20th company; bulk inserts. (The renewal crash tests seed
    the same.)"""
    companies = [f"co_bench{i:06d}" for i in range(n)]
    subs = [f"sub_bench{i:06d}" for i in range(n)]
    async with engine.begin() as c:
        await c.execute(
            insert(t.products).values(
                id="prod_bench",
                name="Team plan",
                proration_increase="invoice",
                proration_decrease="prorate",
                created_at=START,
            )
        )
        await c.execute(
            insert(t.prices).values(
                id="price_bench",
                product_id="prod_bench",
                version=1,
                currency="usd",
                interval="month",
                seat_sync="manual",
                definition=PRICE.to_mapping(),
                created_at=START,
            )
        )
        await c.execute(
            insert(t.companies),
            [{"id": co, "name": f"Company {co}", "created_at": START} for co in companies],
        )
        await c.execute(
            insert(t.members),
            [
                {
                    "id": f"mem_bench{i:06d}",
                    "company_id": co,
                    "email": f"boss{i}@bench.test",
                    "role": "billing_manager",
                    "created_at": START,
                }
                for i, co in enumerate(companies)
            ],
        )
        await c.execute(
            insert(t.seat_pools),
            [
                {"id": sub, "kind": "subscription", "seats": 1 + i % 15, "created_at": START}
                for i, sub in enumerate(subs)
            ],
        )
        await c.execute(
            insert(t.subscriptions),
            [
                {
                    "id": sub,
                    "company_id": co,
                    "owner_email": f"boss{i}@bench.test",
                    "price_id": "price_bench",
                    "status": "active",
                    "billing_anchor": START,
                    "current_period_start": START,
                    "current_period_end": DUE,
                    "cancel_at_period_end": False,
                    "payment_method": "pm_card_ok",
                    "payment_customer": co,
                    "created_at": START,
                    "payment_attempts": 0,
                }
                for i, (sub, co) in enumerate(zip(subs, companies, strict=True))
            ],
        )
        await c.execute(
            insert(t.pending_lines),
            [
                {
                    "subscription_id": sub,
                    "kind": "proration",
                    "description": "Seats 3 → 4, Jan 16 – Feb 1",
                    "quantity": 1,
                    "unit_amount": PRORATION,
                    "amount": PRORATION,
                    "currency": "usd",
                    "period_start": START + timedelta(days=15),
                    "period_end": DUE,
                    "created_at": START + timedelta(days=15),
                }
                for sub in subs[::10]
            ],
        )
        await c.execute(
            insert(t.credit_balances),
            [{"company_id": co, "currency": "usd", "amount": CREDIT} for co in companies[::20]],
        )
    if engine.dialect.name == "postgresql":
        # Statistics for the seeded tables only: an empty table analyzed as empty would be
        # planned as empty (sequential scans) while the run fills it.
        async with engine.begin() as c:
            for table in ("companies", "members", "subscriptions", "pending_lines"):
                await c.execute(text(f"ANALYZE {table}"))
            await c.execute(text("ANALYZE credit_balances"))


async def _renew(url: str) -> float:
    engine = create_engine(url)
    try:
        await seed_due_subscriptions(engine, SUBSCRIPTIONS)
        rt = Runtime(
            engine=engine,
            clock=FixedClock(DUE + timedelta(minutes=1)),
            settings=Settings(database_url=url),
            gateway=LocalGateway(),
        )
        start = time.perf_counter()
        renewed = await renewals.renew_due(rt)
        elapsed = time.perf_counter() - start
        async with engine.connect() as c:
            paid = (
                await c.execute(
                    select(func.count())
                    .select_from(t.invoices)
                    .where(
                        t.invoices.c.reason == "subscription_cycle", t.invoices.c.status == "paid"
                    )
                )
            ).scalar_one()
        if len(renewed) != SUBSCRIPTIONS or len(set(renewed)) != SUBSCRIPTIONS:
            raise AssertionError(f"renewed {len(renewed)} of {SUBSCRIPTIONS}")
        if paid != SUBSCRIPTIONS:
            raise AssertionError(f"{paid} paid renewal invoices, expected {SUBSCRIPTIONS}")
        if await renewals.renew_due(rt):
            raise AssertionError("a second run renewed again")
    finally:
        await engine.dispose()
    return SUBSCRIPTIONS / elapsed


def postgres(rounds: int = ROUNDS) -> float:
    """The best of ``rounds`` runs, each on a freshly migrated and seeded database."""
    url = os.environ.get("SEATLEDGER_BENCH_DATABASE_URL", POSTGRES)
    best = 0.0
    for _ in range(rounds):
        _fresh_postgres(url)
        migrations.upgrade(url)
        best = max(best, asyncio.run(_renew(url)))
    return best


def sqlite(rounds: int = ROUNDS) -> float:
    best = 0.0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="seatledger-bench-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            migrations.upgrade(url)
            best = max(best, asyncio.run(_renew(url)))
    return best


def collect() -> dict[str, dict[str, Any]]:
    reason = unreachable(os.environ.get("SEATLEDGER_BENCH_DATABASE_URL", POSTGRES))
    if reason is None:
        on_postgres: dict[str, Any] = {"value": round(postgres()), "unit": "renewals/s"}
    else:
        print(f"billing.renewals_per_second skipped: {reason}", file=sys.stderr)
        on_postgres = {"value": None, "unit": "renewals/s", "skipped": reason}
    return {
        "billing.renewals_per_second": on_postgres,
        "billing.renewals_per_second_sqlite": {"value": round(sqlite()), "unit": "renewals/s"},
    }


if __name__ == "__main__":
    for name, result in collect().items():
        print(f"{name:40} {result['value']:>10,} {result['unit']}")
