"""Customer sessions in the database (``customer_sessions``): written with a token's hash, and
found by it with the member they speak for (``seatledger.services.customer_sessions``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.company import Role


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A live session's id and expiry, with its current member."""

    session_id: str
    member_id: str
    company_id: str
    role: Role
    expires_at: datetime


class CustomerSessions:
    """The customer sessions of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, row: Mapping[str, object]) -> None:
        """Write a session (its ``customer_sessions`` columns)."""
        await self._connection.execute(insert(t.customer_sessions).values(**row))

    async def live(self, token_hash: str, now: datetime) -> LiveSession | None:
        """The unexpired session with this token's hash whose member is current (one indexed
        look-up), or None."""
        sessions, members = t.customer_sessions, t.members
        query = (
            select(
                sessions.c.id,
                sessions.c.expires_at,
                members.c.id.label("member_id"),
                members.c.company_id,
                members.c.role,
            )
            .join(members, members.c.id == sessions.c.member_id)
            .where(
                sessions.c.token_hash == token_hash,
                sessions.c.expires_at > now,
                members.c.removed_at.is_(None),
            )
        )
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        return LiveSession(row.id, row.member_id, row.company_id, row.role, row.expires_at)


__all__ = ["CustomerSessions", "LiveSession"]
