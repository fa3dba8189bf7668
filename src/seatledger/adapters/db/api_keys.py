"""API keys in the database (``api_keys``): each stored as its SHA-256 with a short prefix,
read as the domain's ``ApiKey`` (``seatledger.domain.api_key``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.api_key import ApiKey

_keys = t.api_keys


def _key(row: Any) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=tuple(row.scopes.split()),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class ApiKeys:
    """The API keys of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, key: ApiKey, key_hash: str) -> None:
        await self._connection.execute(
            insert(_keys).values(
                id=key.id,
                name=key.name,
                prefix=key.prefix,
                key_hash=key_hash,
                scopes=" ".join(key.scopes),
                created_at=key.created_at,
            )
        )

    async def all(self) -> list[ApiKey]:
        """Every key, oldest first, revoked ones included."""
        rows = await self._connection.execute(select(_keys).order_by(_keys.c.id))
        return [_key(row) for row in rows]

    async def get(self, key_id: str) -> ApiKey | None:
        row = (await self._connection.execute(select(_keys).where(_keys.c.id == key_id))).first()
        return None if row is None else _key(row)

    async def live_by_hash(self, key_hash: str) -> ApiKey | None:
        """The live (not revoked) key with this hash (the unique index on ``key_hash``)."""
        row = (
            await self._connection.execute(
                select(_keys).where(_keys.c.key_hash == key_hash, _keys.c.revoked_at.is_(None))
            )
        ).first()
        return None if row is None else _key(row)

    async def revoke(self, key_id: str, now: datetime) -> tuple[ApiKey, str] | None:
        """Revoke a live key; answers it with its hash (None when absent or revoked)."""
        row = (
            await self._connection.execute(
                update(_keys)
                .where(_keys.c.id == key_id, _keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
                .returning(*_keys.c)
            )
        ).first()
        return None if row is None else (_key(row), str(row.key_hash))


__all__ = ["ApiKeys"]
