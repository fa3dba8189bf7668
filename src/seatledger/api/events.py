"""Events: what happened, as merchants read it (SPEC §10); the outbox's catalogued events.

Only an API key may read them: a customer session gets 403. Internal records of the outbox are
never shown (404 by id). How each type's `data` looks is documented in `/openapi.json`'s
`webhooks` (``seatledger.api.event_catalogue``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from seatledger.api.auth import MerchantReader
from seatledger.api.common import (
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    QueryText,
    RuntimeDep,
    Timestamp,
    cursor_of,
    list_of,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.events import EventType, OutboxEvent
from seatledger.domain.ids import check_id
from seatledger.services import events

router = APIRouter(tags=["events"], route_class=JsonRoute)


class EventOut(OutModel):
    id: str
    type: Annotated[str, Field(json_schema_extra={"enum": list(EventType)})]
    created_at: Timestamp
    data: dict[str, Any] = Field(
        description="The object the event is about; its shape per type is in `webhooks`."
    )


def event_out(event: OutboxEvent) -> EventOut:
    # The event's own document ({id, type, created_at, data}) is the one step that says what
    # `data` holds, for this API and for webhooks alike.
    document = event.document()
    return EventOut(
        id=document["id"],
        type=document["type"],
        created_at=event.created_at,
        data=document["data"],
    )


@router.get(
    "/v1/events",
    summary="List events",
    responses=responses(401, 403, 422),
)
async def list_events(
    rt: RuntimeDep,
    _: MerchantReader,
    event_type: Annotated[
        QueryText,
        Query(
            alias="type",
            max_length=60,
            description="Only events of this type (one of the catalogue).",
            json_schema_extra={"enum": list(EventType)},
        ),
    ] = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[EventOut]:
    """Newest first. A `type` outside the catalogue is a 422 naming `type`."""
    page = await events.list_events(
        rt, event_type=event_type, limit=limit, cursor=cursor_of(cursor)
    )
    return ListOut[EventOut](**list_of(page, event_out))


@router.get(
    "/v1/events/{event_id}",
    summary="Get an event",
    responses=responses(401, 403, 404),
)
async def get_event(event_id: str, rt: RuntimeDep, _: MerchantReader) -> EventOut:
    """`{id, type, created_at, data}`, as a webhook carries it."""
    return event_out(await events.get_event(rt, check_id(event_id, "event")))
