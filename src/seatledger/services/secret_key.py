"""The instance's secret key, which signs expiring links (file downloads).

``SEATLEDGER_SECRET_KEY`` when set; otherwise the key the migrations generated and stored in
``instance_secrets``, so that every process of one instance signs and verifies alike. Read once
per engine (it never changes while the instance runs). Should the row be missing (a restored
dump without it, a wiped table), a new key is stored once, first writer wins: links signed
before then stop working, which is their fate anyway after at most an hour.
"""

from __future__ import annotations

import secrets
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Insert, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.services.runtime import Runtime

_keys: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


async def secret_key(rt: Runtime) -> str:
    """The key signing this instance's links. Call it outside any open unit of work."""
    if rt.settings.secret_key:
        return rt.settings.secret_key
    cached = _keys.get(rt.engine.sync_engine)
    if cached is None:
        cached = await _stored_key(rt.engine)
        _keys[rt.engine.sync_engine] = cached
    return cached


def forget_cached_keys() -> None:
    """Drop the keys read so far (for tests that replace the stored key)."""
    _keys.clear()


async def _stored_key(engine: AsyncEngine) -> str:
    query = select(t.instance_secrets.c.secret_key).where(t.instance_secrets.c.id == 1)
    async with engine.connect() as connection:
        key = (await connection.execute(query)).scalar_one_or_none()
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
        return str((await connection.execute(query)).scalar_one())
