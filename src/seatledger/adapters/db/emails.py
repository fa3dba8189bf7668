"""Emails in the database (``emails``), read as ``StoredEmail`` (``seatledger.domain.emails``):
written by the emails channel's fan-out, leased and sent by ``email_sending``, listed by the
API with the status of the seat an invitation is for."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.emails import Email, StoredEmail

_emails = t.emails
_with_seat = select(*_emails.c, t.seats.c.status.label("seat_status")).select_from(
    _emails.outerjoin(t.seats, t.seats.c.id == _emails.c.seat_id)
)
_ADD = {
    "postgresql": postgresql.insert(_emails).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_emails).on_conflict_do_nothing(),
}
_SCRUB = (
    update(t.outbox)
    .where(t.outbox.c.event_id == bindparam("event"))
    .values(payload=bindparam("scrubbed", type_=t.outbox.c.payload.type))
)
# How a list is paged: the query and its id column in, the page's query out.
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]


def _stored(row: Any, *, with_seat: bool) -> StoredEmail:
    email = Email(
        id=row.id,
        event_id=row.event_id,
        to=row.to,
        subject=row.subject,
        text=row.text,
        html=row.html,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
    return StoredEmail(email, row.link, row.seat_status if with_seat else None)


class Emails:
    """The emails of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, values: Mapping[str, object]) -> None:
        """Write a new email (column values); an event taken twice, should a loop ever take
        it again, writes one email (the unique index on event, kind and recipient)."""
        await self.add_many([values])

    async def add_many(self, rows: Sequence[Mapping[str, object]]) -> None:
        """``add`` for many emails (each the same columns): one statement, built once, run
        for each row in one batch."""
        if not rows:
            return
        await self._connection.execute(_ADD[self._connection.dialect.name], [dict(r) for r in rows])

    async def scrub_outbox(self, event_id: str, payload: Mapping[str, object]) -> None:
        """Replace the outbox record's payload (its invitation link taken out)."""
        await self.scrub_outboxes([(event_id, payload)])

    async def scrub_outboxes(self, payloads: Sequence[tuple[str, Mapping[str, object]]]) -> None:
        """``scrub_outbox`` for many events: ``(event_id, payload)`` pairs, the statement built
        once and run for each pair in one batch (psycopg pipelines it)."""
        if not payloads:
            return
        await self._connection.execute(
            _SCRUB,
            [{"event": event_id, "scrubbed": dict(payload)} for event_id, payload in payloads],
        )

    async def get(self, email_id: str) -> StoredEmail | None:
        row = (await self._connection.execute(_with_seat.where(_emails.c.id == email_id))).first()
        return None if row is None else _stored(row, with_seat=True)

    async def page(
        self, paging: Paging, *, to: str | None = None, event_id: str | None = None
    ) -> list[StoredEmail]:
        """One page of emails, to one address or for one event when asked."""
        query = _with_seat
        if to is not None:
            query = query.where(_emails.c.to == to)
        if event_id is not None:
            query = query.where(_emails.c.event_id == event_id)
        rows = (await self._connection.execute(paging(query, _emails.c.id))).all()
        return [_stored(row, with_seat=True) for row in rows]

    async def lease_due(
        self, now: datetime, wall: datetime, limit: int, lease: datetime
    ) -> list[StoredEmail]:
        """Lease up to ``limit`` queued emails due at ``now`` and not leased at ``wall``, in due
        order, skipping rows another loop holds."""
        query = (
            select(_emails)
            .where(
                _emails.c.status == "queued",
                _emails.c.next_attempt_at <= now,
                or_(_emails.c.lease_expires_at.is_(None), _emails.c.lease_expires_at < wall),
            )
            .order_by(_emails.c.next_attempt_at, _emails.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = (await self._connection.execute(query)).all()
        if rows:
            leased = update(_emails).where(_emails.c.id.in_([r.id for r in rows]))
            await self._connection.execute(leased.values(lease_expires_at=lease))
        return [_stored(row, with_seat=False) for row in rows]

    async def record(self, email_id: str, values: Mapping[str, object]) -> None:
        """An attempt's outcome (column values), on an email still queued."""
        await self._connection.execute(
            update(_emails)
            .where(_emails.c.id == email_id, _emails.c.status == "queued")
            .values(dict(values))
        )

    async def hand_back(self, email_id: str, lease: datetime) -> None:
        """Clear the lease of an email not sent (if still under it)."""
        await self._connection.execute(
            update(_emails)
            .where(_emails.c.id == email_id, _emails.c.lease_expires_at == lease)
            .values(lease_expires_at=None)
        )


__all__ = ["Emails"]
