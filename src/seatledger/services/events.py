"""Events as merchants read them (``GET /v1/events``, SPEC §10): the outbox's catalogued events.

The outbox also holds internal records (``invitation.email``, ``product.created``, …); they are
never listed nor found by id. Lists run newest first in the order the events were written (the
outbox's own serial id: event ids are time-ordered only to the millisecond); a page's cursor is
its last event's id.
"""

from __future__ import annotations

from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.events import EVENT_TYPES, EventType, OutboxEvent
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime


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
    checked = check_event_type(event_type)
    types = sorted(EVENT_TYPES) if checked is None else [checked]
    async with rt.reading() as uow:
        # The cursor is the last event of the page before: the page continues below its row.
        events = await uow.outbox.newest(types, size + 1, before_event=cursor)
    return page_of(events, [event.id for event in events], size)


async def get_event(rt: Runtime, event_id: str) -> OutboxEvent:
    """A catalogued event; ``NotFound`` for an internal record as for an unknown id."""
    async with rt.reading() as uow:
        event = await uow.outbox.get(event_id, sorted(EVENT_TYPES))
    if event is None:
        raise NotFound("event")
    return event


__all__ = ["check_event_type", "get_event", "list_events"]
