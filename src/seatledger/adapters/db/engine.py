"""The async engine, set up alike for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import QueuePool

from seatledger.config import DATABASE_POOL_SIZE, StartupError, async_database_url

# The engine as the services hold it (``Runtime.engine``), named here: the services pass it on
# and ask its dialect, and import no database toolkit of their own.
Database = AsyncEngine


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(async_database_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite database file (``var/`` on a fresh clone): whatever opens
    the database first, the server, the migrations or the CLI, finds its folder there."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StartupError(
            f"cannot create {path.parent} for the SQLite database ({error.strerror}):"
            " check SEATLEDGER_DATABASE_URL"
        ) from None


def create_engine(url: str, *, pool_size: int = DATABASE_POOL_SIZE, **options: Any) -> AsyncEngine:
    url = async_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if options.get("poolclass") is None:
            # A fixed pool: a request finding every connection busy waits for one. Overflow
            # connections, opened for a request and closed after it, made a burst of requests
            # open and close PostgreSQL connections one per request, which cost more than the
            # requests and kept the server behind for seconds after the burst had passed.
            options.update(pool_size=pool_size, max_overflow=0)
        engine = create_async_engine(url, **options)

        @event.listens_for(engine.sync_engine.pool, "checkin")
        def _end_autocommit(dbapi_connection: Any, _record: Any) -> None:
            # A connection switched to autocommit (``autocommit``: readers, a statement of its
            # own, a key's read) goes back to the pool as it came out of it. psycopg only sets
            # a flag (no round trip).
            if dbapi_connection is not None and dbapi_connection.autocommit:
                dbapi_connection.autocommit = False

        return engine

    make_sqlite_folder(url)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get(READING):
            # A reader takes no lock until it reads, and then only a snapshot (WAL).
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        # Take the write lock up front: two writers never both read then fail to upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def open_pool(engine: AsyncEngine) -> None:
    """Open every connection of a PostgreSQL engine's pool now, as a server process starts.

    The pool otherwise opens them one at a time, the first time that many requests are under
    way at once: each one a PostgreSQL process started, a login and psycopg's set-up, while the
    requests wait (the entitlement checks' slowest answers, early in a server's life). SQLite
    opens its connections cheaply."""
    pool = engine.pool
    if engine.dialect.name == "sqlite" or not isinstance(pool, QueuePool):
        return  # a pool that keeps no connections has none to open
    connections = [await engine.connect() for _ in range(pool.size())]
    for connection in connections:
        await connection.close()


# The execution option that marks a connection as reading only (``reading`` below).
READING = "seatledger_reading"


async def reading_options(connection: AsyncConnection) -> None:
    """Make a connection just checked out of the pool, before its first statement, a reader:

    * SQLite: its transaction begins ``DEFERRED``: no write lock, one snapshot of every read;
    * PostgreSQL: no transaction at all (autocommit): each statement reads its own snapshot, as
      it does in the ``READ COMMITTED`` transaction it saves, without the ``BEGIN`` and the
      ``COMMIT``/``ROLLBACK`` round trips (a ``ROLLBACK`` also makes psycopg forget its prepared
      statements). The pool puts the connection back as it was when it is returned.
    """
    if connection.dialect.name == "sqlite":
        await connection.execution_options(**{READING: True})
        return
    await autocommit(connection)


async def autocommit(connection: AsyncConnection) -> None:
    """PostgreSQL: run a connection just checked out of the pool without a transaction, each
    statement committing itself (a reader's, ``reading_options``; a unit of work of one
    statement's). psycopg's own switch, which the pool switches back at check-in
    (``create_engine``): through SQLAlchemy's ``isolation_level="AUTOCOMMIT"`` the switch and
    its undoing cost about 40 µs more (SQLAlchemy's characteristics, set and reset in
    greenlets). SQLAlchemy still begins its transaction on the first statement; psycopg sends
    no ``BEGIN``, and the ``COMMIT`` or ``ROLLBACK`` that ends it finds none to end."""
    raw = await connection.get_raw_connection()
    await raw.driver_connection.set_autocommit(True)  # type: ignore[union-attr]


@asynccontextmanager
async def reading(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection that only reads (``reading_options``)."""
    async with engine.connect() as connection:
        await reading_options(connection)
        yield connection
