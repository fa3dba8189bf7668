"""Shared fixtures.

Database tests take the ``runtime`` (or ``engine``) fixture and run once per configured
database: SQLite always, PostgreSQL too when ``SEATLEDGER_TEST_DATABASE_URL`` is set (CI sets
it). The schema is built by the real migrations; each test starts from empty tables. A test
marked ``postgresql_only`` checks what only PostgreSQL does (SKIP LOCKED, two writers at once,
psycopg's round trips, its one-statement paths): its SQLite instance is deselected, so without
PostgreSQL it is absent, never skipped.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import migrations
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.db.tables import metadata
from seatledger.adapters.payments.local import LocalGateway
from seatledger.api.event_rendering import event_renderer
from seatledger.config import Settings, sync_database_url
from seatledger.domain.clock import FixedClock
from seatledger.services.runtime import Runtime


def _own_database(url: str) -> str:
    """Under ``pytest -n`` (``make test``) each worker process tests on a database of its own,
    ``<name>_<worker>``, made beside the configured one when absent: the tests reset its
    schema, which two processes cannot share."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    configured = make_url(sync_database_url(url))
    name = f"{configured.database}_{worker}"
    admin = create_sync_engine(configured, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if found is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    own = make_url(url).set(database=name).render_as_string(hide_password=False)
    os.environ["SEATLEDGER_TEST_DATABASE_URL"] = own  # for the processes the tests start
    return own


POSTGRES_URL = _own_database(os.environ.get("SEATLEDGER_TEST_DATABASE_URL", ""))

# tests/soak runs under `make soak` only (SEATLEDGER_SOAK=1): the long forms of the assignment
# storm and of stateful schemathesis (both run bounded in `make test`).
collect_ignore = [] if os.environ.get("SEATLEDGER_SOAK") else ["soak"]
# The assignment storm runs PostgreSQL's concurrency through a real server: collected only when
# PostgreSQL is configured (SQLite serialises its writers), not skipped.
if not POSTGRES_URL:
    collect_ignore += ["integration/test_assignment_storm.py", "soak/test_assignment_storm.py"]
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the SQLite instances of ``postgresql_only`` tests (module docstring)."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("database_url") == "sqlite"
        if on_sqlite and item.get_closest_marker("postgresql_only") is not None:
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _reset_postgres(url: str) -> None:
    engine = create_sync_engine(sync_database_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "seatledger.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = POSTGRES_URL
        _reset_postgres(url)
    migrations.upgrade(url)
    return url


async def _empty_tables(engine: AsyncEngine) -> None:
    kept = ("invoice_sequence", "instance_secrets", "sandbox_clock")  # rows the migrations make
    names = [t.name for t in reversed(metadata.sorted_tables) if t.name not in kept]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                await connection.execute(text(f"DELETE FROM {name}"))
        await connection.execute(text("UPDATE invoice_sequence SET last_number = 0"))
        await connection.execute(text("UPDATE sandbox_clock SET now = NULL"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await _empty_tables(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, sandbox=True)


@pytest.fixture
def gateway() -> LocalGateway:
    return LocalGateway()


@pytest.fixture
def runtime(
    engine: AsyncEngine, clock: FixedClock, settings: Settings, gateway: LocalGateway
) -> Runtime:
    return Runtime(
        engine=engine,
        clock=clock,
        settings=settings,
        gateway=gateway,
        render_event=event_renderer(settings),
    )
