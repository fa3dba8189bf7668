"""Idempotency keys in the database (``idempotency_keys``): a key's row read, written with the
work it answers for (an upsert that takes over only a ``started`` row of the same request or an
expired one), and pruned. The rules (what a key means, when it conflicts) are the service's
(``seatledger.services.idempotency``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Insert, Select, and_, bindparam, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import autocommit

_keys = t.idempotency_keys


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A key's row as stored."""

    request_hash: str
    status: str
    response_status: int | None
    response_body: bytes | None
    response_content_type: str | None
    response_withheld: str | None
    recovery: dict[str, Any] | None
    created_at: datetime


# The statements are built once, with bind parameters: building them per request cost more CPU
# than running them (about a tenth of a keyed request's).
_READ: Select[Any] = select(_keys).where(
    _keys.c.credential == bindparam("credential"),
    _keys.c.path == bindparam("path"),
    _keys.c.key == bindparam("key"),
)


def _key_row(row: Any) -> KeyRow:
    return KeyRow(
        request_hash=row.request_hash,
        status=row.status,
        response_status=row.response_status,
        response_body=None if row.response_body is None else bytes(row.response_body),
        response_content_type=row.response_content_type,
        response_withheld=row.response_withheld,
        recovery=None if row.recovery is None else dict(row.recovery),
        created_at=row.created_at,
    )


async def read_key(engine: AsyncEngine, credential: str, path: str, key: str) -> KeyRow | None:
    """The key's row, read on a connection of its own outside any transaction (PostgreSQL:
    autocommit, no BEGIN)."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await autocommit(connection)
        parameters = {"credential": credential, "path": path, "key": key}
        row = (await connection.execute(_READ, parameters)).first()
    return None if row is None else _key_row(row)


@cache
def _upsert(dialect_name: str) -> Insert:
    """Insert the key's row, or take over a ``started`` row of the same request or an expired
    one (made at or before ``expired_at``); answers nothing (no row) when another run's row
    stands in the way. Executed with the row's columns and ``expired_at`` as parameters."""
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(_keys)
    expired = _keys.c.created_at <= bindparam("expired_at", type_=_keys.c.created_at.type)
    excluded = statement.excluded
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=[_keys.c.credential, _keys.c.path, _keys.c.key],
        set_={
            "request_hash": excluded.request_hash,
            "status": excluded.status,
            "response_status": excluded.response_status,
            "response_body": excluded.response_body,
            "response_content_type": excluded.response_content_type,
            "response_withheld": excluded.response_withheld,
            "recovery": excluded.recovery,
            # A resumed request keeps its first run's time: it is kept ``keep`` from then.
            "created_at": case((expired, excluded.created_at), else_=_keys.c.created_at),
        },
        where=or_(
            and_(_keys.c.status == "started", _keys.c.request_hash == excluded.request_hash),
            expired,
        ),
    ).returning(_keys.c.key)
    return upsert


async def write_key(
    connection: AsyncConnection | None, engine: AsyncEngine, values: dict[str, Any], keep: timedelta
) -> bool:
    """Write the key's row (``values``: its columns) in ``connection``'s transaction, or in one
    of its own when None; False when another run's row stands in the way."""
    statement = _upsert(engine.dialect.name)
    parameters = {**values, "expired_at": values["created_at"] - keep}
    if connection is not None:
        return (await connection.execute(statement, parameters)).first() is not None
    async with engine.begin() as own:
        return (await own.execute(statement, parameters)).first() is not None


async def begin(engine: AsyncEngine) -> AsyncConnection:
    """A connection with a transaction begun, for a key's row written with nothing held."""
    connection = await engine.connect()
    await connection.begin()
    return connection


class IdempotencyKeys:
    """The keys, on one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def prune(self, cutoff: datetime) -> int:
        """Delete the keys made at or before ``cutoff``; answers how many."""
        result = await self._connection.execute(delete(_keys).where(_keys.c.created_at <= cutoff))
        return int(result.rowcount)


__all__ = ["IdempotencyKeys", "KeyRow", "begin", "read_key", "write_key"]
