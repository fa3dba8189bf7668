"""The provider's events as they arrive (``provider_events``), and the hosted pages of
checkouts (``hosted_pages``): rows and statements, no rules.

An event is kept once per id (``ProviderInbox.keep`` answers whether it was new). The
delivery loop takes the due ones under a lease (``take_due``: ``next_attempt_at`` moved past
the lease, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), then records each outcome (``done``,
``retry_at``, ``failed``). Both are repositories of the unit of work (``uow.provider_inbox``,
``uow.hosted_pages``), on its connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.payments import ProviderEvent

events = t.provider_events


@dataclass(frozen=True, slots=True)
class KeptEvent:
    event: ProviderEvent
    attempts: int


def _dialect(connection: AsyncConnection) -> Any:
    return postgresql if connection.dialect.name == "postgresql" else sqlite


class ProviderInbox:
    """The provider's events kept to be applied."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def keep(self, provider: str, event: ProviderEvent, now: datetime) -> bool:
        """Keep ``event`` to be applied; False when an event of this id is kept already."""
        statement = (
            _dialect(self._connection)
            .insert(events)
            .values(
                id=event.id,
                provider=provider,
                type=event.type,
                payload=event.payload,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                received_at=now,
            )
            .on_conflict_do_nothing()
            .returning(events.c.id)
        )
        return (await self._connection.execute(statement)).first() is not None

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[KeptEvent]:
        """Up to ``limit`` pending events due at ``now``, oldest first, leased until
        ``lease_until``."""
        rows = (
            await self._connection.execute(
                select(events.c.id, events.c.type, events.c.payload, events.c.attempts)
                .where(
                    events.c.status == "pending",
                    or_(events.c.next_attempt_at.is_(None), events.c.next_attempt_at <= now),
                )
                .order_by(events.c.received_at, events.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await self._connection.execute(
                update(events)
                .where(events.c.id.in_([row.id for row in rows]))
                .values(next_attempt_at=lease_until)
            )
        return [
            KeptEvent(ProviderEvent(row.id, row.type, dict(row.payload)), int(row.attempts))
            for row in rows
        ]

    async def done(self, event_ids: Sequence[str], now: datetime) -> None:
        if event_ids:
            await self._connection.execute(
                update(events)
                .where(events.c.id.in_(list(event_ids)))
                .values(status="done", done_at=now, next_attempt_at=None, last_error=None)
            )

    async def retry_at(
        self, event_id: str, attempts: int, when: datetime | None, error: str
    ) -> None:
        """Record a failed attempt: tried again at ``when``, or ``failed`` for good (None)."""
        await self._connection.execute(
            update(events)
            .where(events.c.id == event_id)
            .values(
                attempts=attempts,
                next_attempt_at=when,
                status="pending" if when is not None else "failed",
                last_error=error[:300],
            )
        )

    async def status_of(self, event_id: str) -> Any:
        return (
            await self._connection.execute(select(events).where(events.c.id == event_id))
        ).first()


class HostedPages:
    """The hosted pages of checkouts (a provider's page where the buyer pays)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def of(self, checkout_id: str) -> list[Any]:
        """The checkout's hosted pages, newest first."""
        pages = t.hosted_pages
        return list(
            (
                await self._connection.execute(
                    select(pages)
                    .where(pages.c.checkout_id == checkout_id)
                    .order_by(pages.c.created_at.desc(), pages.c.id.desc())
                )
            ).all()
        )

    async def add(
        self, provider: str, page_id: str, checkout_id: str, url: str | None, now: datetime
    ) -> None:
        statement = (
            _dialect(self._connection)
            .insert(t.hosted_pages)
            .values(id=page_id, checkout_id=checkout_id, provider=provider, url=url, created_at=now)
            .on_conflict_do_nothing()
        )
        await self._connection.execute(statement)


__all__ = ["HostedPages", "KeptEvent", "ProviderInbox"]
