"""Dashboard users, their sessions and failed logins in the database
(``seatledger.domain.dashboard_user``).

Tokens and passwords never reach these tables: a session is found by its token's SHA-256, a
user's password is an argon2 hash made by the service. The unique email is the database's
rule too: a concurrent ``users create`` that loses gets the same ``ValidationFailed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.constraints import constraint_name
from seatledger.domain.dashboard_user import DashboardSession, DashboardUser, Throttle
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.ids import new_id

EMAIL_TAKEN = "a dashboard user with this email exists"

_sessions = select(
    t.dashboard_sessions,
    t.dashboard_users.c.email,
    t.dashboard_users.c.created_at.label("user_created_at"),
).join(t.dashboard_users, t.dashboard_users.c.id == t.dashboard_sessions.c.user_id)


def _user(row: Any) -> DashboardUser:
    return DashboardUser(id=row.id, email=row.email, created_at=row.created_at)


def _session(row: Any) -> DashboardSession:
    return DashboardSession(
        id=row.id,
        user=DashboardUser(id=row.user_id, email=row.email, created_at=row.user_created_at),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


class DashboardUsers:
    """Users and sessions of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, user: DashboardUser, password_hash: str) -> None:
        if await self.with_email(user.email) is not None:
            raise ValidationFailed.field("email", EMAIL_TAKEN)
        try:
            await self._connection.execute(
                insert(t.dashboard_users).values(
                    id=user.id,
                    email=user.email,
                    password_hash=password_hash,
                    created_at=user.created_at,
                )
            )
        except IntegrityError as error:  # the transaction is lost: the caller rolls back
            if constraint_name(error) == "uq_dashboard_users_email":
                raise ValidationFailed.field("email", EMAIL_TAKEN) from None
            raise

    async def with_email(self, email: str) -> tuple[DashboardUser, str] | None:
        """The user and their password hash."""
        row = (
            await self._connection.execute(
                select(t.dashboard_users).where(t.dashboard_users.c.email == email)
            )
        ).first()
        return None if row is None else (_user(row), row.password_hash)

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._connection.execute(
            update(t.dashboard_users)
            .where(t.dashboard_users.c.id == user_id)
            .values(password_hash=password_hash)
        )

    # -- sessions -------------------------------------------------------------------------------

    async def add_session(self, session: DashboardSession, token_hash: str) -> None:
        await self._connection.execute(
            insert(t.dashboard_sessions).values(
                id=session.id,
                user_id=session.user.id,
                token_hash=token_hash,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
                expires_at=session.expires_at,
            )
        )

    async def session(self, token_hash: str) -> DashboardSession | None:
        row = (
            await self._connection.execute(
                _sessions.where(t.dashboard_sessions.c.token_hash == token_hash)
            )
        ).first()
        return None if row is None else _session(row)

    async def touch(self, session_id: str, now: datetime) -> None:
        await self._connection.execute(
            update(t.dashboard_sessions)
            .where(t.dashboard_sessions.c.id == session_id)
            .values(last_seen_at=now)
        )

    async def end_session(self, token_hash: str) -> None:
        await self._connection.execute(
            delete(t.dashboard_sessions).where(t.dashboard_sessions.c.token_hash == token_hash)
        )

    async def end_sessions_before(self, idle_since: datetime, now: datetime) -> None:
        """Delete the sessions idle since before ``idle_since`` or past their end."""
        sessions = t.dashboard_sessions.c
        await self._connection.execute(
            delete(t.dashboard_sessions).where(
                or_(sessions.last_seen_at < idle_since, sessions.expires_at <= now)
            )
        )

    # -- failed logins --------------------------------------------------------------------------

    async def throttle(self, email: str, client: str, since: datetime) -> Throttle:
        failures = t.dashboard_login_failures.c
        rows = (
            await self._connection.execute(
                select(failures.email, failures.client, failures.failed_at).where(
                    or_(failures.email == email, failures.client == client),
                    failures.failed_at > since,
                )
            )
        ).all()
        return Throttle(
            by_email=[row.failed_at for row in rows if row.email == email],
            by_client=[row.failed_at for row in rows if row.client == client],
        )

    async def add_failure(self, email: str, client: str, now: datetime) -> None:
        await self._connection.execute(
            insert(t.dashboard_login_failures).values(
                id=new_id("lf"), email=email, client=client, failed_at=now
            )
        )

    async def forget_failures(self, email: str, before: datetime) -> None:
        """Delete the failures of ``email`` (a login succeeded), and everyone's older than
        ``before`` (out of the window)."""
        failures = t.dashboard_login_failures.c
        await self._connection.execute(
            delete(t.dashboard_login_failures).where(
                or_(failures.email == email, failures.failed_at <= before)
            )
        )


__all__ = ["EMAIL_TAKEN", "DashboardUsers"]
