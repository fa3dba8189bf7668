"""The instance's own one-row tables: ``sandbox_clock`` (the sandbox's shared time) and
``instance_secrets`` (the key that signs expiring links when ``SEATLEDGER_SECRET_KEY`` is unset).
The rules are the services' (``seatledger.services.sandbox_clock``, ``secret_key``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from sqlalchemy import Insert, create_engine, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from seatledger.adapters.db import tables as t
from seatledger.config import sync_database_url

_now = t.sandbox_clock.c.now
_sandbox_time = select(_now).where(t.sandbox_clock.c.id == 1)
_secret = select(t.instance_secrets.c.secret_key).where(t.instance_secrets.c.id == 1)


def load_sandbox_time(database_url: str) -> datetime | None:
    """The stored sandbox time, read once at start-up (synchronously, before serving); None
    when it was never set or the database is not migrated yet."""
    url = sync_database_url(database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        not parsed.database or parsed.database == ":memory:" or not Path(parsed.database).exists()
    ):
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            value = connection.execute(_sandbox_time).scalar()
    except DBAPIError:
        return None
    finally:
        engine.dispose()
    return value if isinstance(value, datetime) else None


class SandboxClockRow:
    """The sandbox's shared time, on one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def now(self) -> datetime | None:
        """The stored time; None before the clock was first moved."""
        value = (await self._connection.execute(_sandbox_time)).scalar()
        return value if isinstance(value, datetime) else None

    async def advance(self, moment: datetime) -> None:
        """Store ``moment`` unless a later time is stored (the clock only grows)."""
        await self._connection.execute(
            update(t.sandbox_clock)
            .where(t.sandbox_clock.c.id == 1, or_(_now.is_(None), _now <= moment))
            .values(now=moment)
        )


async def stored_secret_key(engine: AsyncEngine) -> str:
    """The stored key, or a new one stored now when the row is missing (first writer wins).
    Connections of its own: it is read outside any unit of work."""
    async with engine.connect() as connection:
        key = (await connection.execute(_secret)).scalar_one_or_none()
    if key is not None:
        return str(key)
    values = {"id": 1, "secret_key": secrets.token_hex(32)}
    statement: Insert
    if engine.dialect.name == "postgresql":
        statement = postgresql.insert(t.instance_secrets).values(values).on_conflict_do_nothing()
    elif engine.dialect.name == "sqlite":
        statement = sqlite.insert(t.instance_secrets).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the engine runs on these two databases only
        statement = insert(t.instance_secrets).values(values)
    async with engine.begin() as connection:
        await connection.execute(statement)
        return str((await connection.execute(_secret)).scalar_one())


__all__ = ["SandboxClockRow", "load_sandbox_time", "stored_secret_key"]
