"""A process keeps a fixed pool of PostgreSQL connections: when every one is busy, a request
waits for one instead of opening (and, once done, closing) one of its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc, text
from sqlalchemy.pool import AsyncAdaptedQueuePool

from seatledger.adapters.db.engine import create_engine, open_pool, reading
from seatledger.adapters.db.unit_of_work import UnitOfWork

pytestmark = pytest.mark.postgresql_only  # SQLite has no connections to keep


async def test_a_busy_pool_makes_the_next_request_wait_rather_than_connect(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=2, pool_timeout=0.3)
    try:
        first, second = await engine.connect(), await engine.connect()
        with pytest.raises(exc.TimeoutError):  # a third is never opened
            await engine.connect()
        waiting = asyncio.create_task(engine.connect().start())
        await asyncio.sleep(0.05)
        await first.close()  # back to the pool: the waiting request takes it
        third = await waiting
        pids = {await c.scalar(text("SELECT pg_backend_pid()")) for c in (second, third)}
        assert len(pids) == 2
        await second.close()
        await third.close()
        pool = engine.pool
        assert isinstance(pool, AsyncAdaptedQueuePool)
        assert pool.checkedin() == 2  # kept open for the next requests, not closed
    finally:
        await engine.dispose()


async def test_a_server_process_opens_its_pool_at_start(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=3)
    try:
        await open_pool(engine)
        pool = engine.pool
        assert isinstance(pool, AsyncAdaptedQueuePool)
        assert (pool.checkedin(), pool.checkedout()) == (3, 0)  # open, and free for requests
    finally:
        await engine.dispose()


async def test_a_readers_connection_goes_back_to_the_pool_as_it_came(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with reading(engine) as connection:
            raw = await connection.get_raw_connection()
            assert raw.driver_connection.autocommit  # type: ignore[union-attr]
            await connection.execute(text("SELECT 1"))
        async with engine.connect() as connection:  # the same one: the pool holds one
            raw = await connection.get_raw_connection()
            assert not raw.driver_connection.autocommit  # type: ignore[union-attr]
            await connection.execute(text("CREATE TEMPORARY TABLE kept (n int)"))
            await connection.rollback()  # a writer's work is still undone as one transaction
            missing = "SELECT to_regclass('pg_temp.kept') IS NULL"
            assert await connection.scalar(text(missing))
    finally:
        await engine.dispose()


async def test_a_statement_commits_itself_and_its_connection_goes_back_as_it_came(
    database_url: str,
) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE IF NOT EXISTS alone_probe (n int)"))
            await connection.execute(text("DELETE FROM alone_probe"))
        async with UnitOfWork(engine, lambda: datetime.now(UTC), alone=True) as uow:
            await uow.connection.execute(text("INSERT INTO alone_probe VALUES (1)"))
            # No commit asked: the statement committed itself (no BEGIN, no COMMIT).
        async with engine.connect() as connection:  # the same one: the pool holds one
            raw = await connection.get_raw_connection()
            assert not raw.driver_connection.autocommit  # type: ignore[union-attr]
            written = await connection.scalar(text("SELECT count(*) FROM alone_probe"))
            assert written == 1
            await connection.execute(text("DROP TABLE alone_probe"))
            await connection.commit()
    finally:
        await engine.dispose()
