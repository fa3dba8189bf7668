"""Events as merchants read them (``GET /v1/events``, SPEC §10): the outbox's catalogued events.

The outbox also holds internal records (``invitation.email``, ``product.created``, …); they are
never listed nor found by id. Lists run newest first in the order the events were written (the
outbox's own serial id: event ids are time-ordered only to the millisecond); a page's cursor is
its last event's id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.events import EVENT_TYPES, EventType, OutboxEvent
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime

_COLUMNS = (t.outbox.c.event_id, t.outbox.c.type, t.outbox.c.payload, t.outbox.c.created_at)


def _event_of(row: Any) -> OutboxEvent:
    return OutboxEvent(
        id=row.event_id, type=row.type, created_at=row.created_at, payload=dict(row.payload)
    )


def check_event_type(event_type: str | None) -> str | None:
    if event_type is not None and event_type not in EVENT_TYPES:
        raise ValidationFailed.field(
            "type", "is not an event type of the catalogue: " + ", ".join(EventType)
        )
    return event_type


async def list_events(
    rt: Runtime,
    *,
    event_type: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[OutboxEvent]:
    """Catalogued events, newest first; of one type when ``event_type`` names one."""
    size = check_limit(limit)
    types = [check_event_type(event_type)] if event_type is not None else sorted(EVENT_TYPES)
    query = select(t.outbox.c.id, *_COLUMNS).where(t.outbox.c.type.in_(types))
    if cursor is not None:  # the last event of the page before: continue below its row
        written = select(t.outbox.c.id).where(t.outbox.c.event_id == cursor).scalar_subquery()
        query = query.where(t.outbox.c.id < written)
    query = query.order_by(t.outbox.c.id.desc()).limit(size + 1)
    async with rt.reading() as uow:
        rows = (await uow.connection.execute(query)).all()
    return page_of([_event_of(row) for row in rows], [row.event_id for row in rows], size)


async def get_event(rt: Runtime, event_id: str) -> OutboxEvent:
    """A catalogued event; ``NotFound`` for an internal record as for an unknown id."""
    query = select(*_COLUMNS).where(
        t.outbox.c.event_id == event_id, t.outbox.c.type.in_(sorted(EVENT_TYPES))
    )
    async with rt.reading() as uow:
        row = (await uow.connection.execute(query)).first()
    if row is None:
        raise NotFound("event")
    return _event_of(row)


__all__ = ["check_event_type", "get_event", "list_events"]
