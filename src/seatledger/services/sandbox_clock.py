"""Where the sandbox's time is kept: the one row of ``sandbox_clock``, shared by every process
of an instance (``seatledger.services.sandbox`` moves it; renewals follow it).

NULL until first moved (the clock then reads the system time), afterwards the time it was
moved to, which only grows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from seatledger.adapters.db import tables as t
from seatledger.config import sync_database_url
from seatledger.domain.clock import SandboxClock
from seatledger.services.runtime import Runtime


class Settable(Protocol):
    def now(self) -> datetime: ...

    def set(self, moment: datetime) -> None: ...


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
            value = connection.execute(
                select(t.sandbox_clock.c.now).where(t.sandbox_clock.c.id == 1)
            ).scalar()
    except DBAPIError:
        return None
    finally:
        engine.dispose()
    return value if isinstance(value, datetime) else None


async def stored_time(rt: Runtime) -> datetime | None:
    async with rt.reading() as uow:
        value = (
            await uow.connection.execute(
                select(t.sandbox_clock.c.now).where(t.sandbox_clock.c.id == 1)
            )
        ).scalar()
    return value if isinstance(value, datetime) else None


async def follow_sandbox_clock(rt: Runtime) -> None:
    """A ``SandboxClock`` takes the shared time (another process may have moved it)."""
    if isinstance(rt.clock, SandboxClock):
        stored = await stored_time(rt)
        if stored is not None:
            rt.clock.set(stored)


async def store_time(rt: Runtime, clock: Settable, moment: datetime) -> None:
    async with rt.transaction() as uow:
        column = t.sandbox_clock.c.now
        await uow.connection.execute(
            update(t.sandbox_clock)
            .where(t.sandbox_clock.c.id == 1, or_(column.is_(None), column <= moment))
            .values(now=moment)
        )
        await uow.commit()
    clock.set(moment)


__all__ = ["Settable", "follow_sandbox_clock", "load_sandbox_time", "store_time", "stored_time"]
