"""Webhook endpoints: where the merchant wants to hear of events, and the secret that signs them.

Only registration exists yet: deliveries (the outbox's events sent to each endpoint, signed per
Standard Webhooks with the endpoint's secret, retried) are later work.

* ``url``: an absolute ``https://`` URL (``http://`` is accepted for the sandbox and for
  ``localhost``-style hosts), at most 2000 characters;
* ``event_types``: types of the closed catalogue (``seatledger.domain.events``, SPEC §10) or
  ``*`` for every event (the default); every unknown one is named (``event_types[2]``);
* ``secret``: ``whsec_`` and 24 random bytes in base64, as Standard Webhooks has it; shown in
  the answer to the creation only.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select

from seatledger.adapters.db import tables as t
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.events import ALL_EVENTS, EventType, unknown_event_types
from seatledger.domain.ids import new_id
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime

MAX_URL = 2000
MAX_EVENT_TYPES = 100
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: str
    url: str
    event_types: tuple[str, ...]
    created_at: datetime
    secret: str = ""  # filled only in the answer to the creation


def _check_url(url: object, *, sandbox: bool) -> str:
    if not isinstance(url, str) or not url or len(url) > MAX_URL or not url.isprintable():
        raise ValidationFailed.field("url", f"must be a URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - a port out of range raises here
    except ValueError:
        raise ValidationFailed.field("url", "is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not host or " " in url:
        raise ValidationFailed.field("url", "must be an absolute https:// URL")
    if parts.scheme == "http" and not (sandbox or host in _LOCAL_HOSTS):
        raise ValidationFailed.field("url", "must use https://")
    return url


def _check_event_types(event_types: Sequence[str] | None) -> tuple[str, ...]:
    if event_types is None:
        return (ALL_EVENTS,)
    if isinstance(event_types, str) or not event_types or len(event_types) > MAX_EVENT_TYPES:
        raise ValidationFailed.field(
            "event_types", f"must be a list of 1 to {MAX_EVENT_TYPES} event types"
        )
    unknown = unknown_event_types(list(event_types))
    if unknown:
        message = "is not an event type of the catalogue (such as 'seat.claimed'), nor '*'"
        raise ValidationFailed(
            "Unknown event types; the catalogue: " + ", ".join(EventType) + ".",
            errors=[(f"event_types[{i}]", message) for i, _ in unknown],
        )
    checked: list[str] = []
    for event_type in event_types:
        if event_type not in checked:
            checked.append(event_type)
    return tuple(checked)


async def create_webhook_endpoint(
    rt: Runtime, *, url: str, event_types: Sequence[str] | None = None
) -> WebhookEndpoint:
    """Register an endpoint; the answer carries its signing secret, this once."""
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        url=_check_url(url, sandbox=rt.settings.sandbox),
        event_types=_check_event_types(event_types),
        created_at=rt.clock.now(),
        secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    )
    async with rt.transaction() as uow:
        await uow.connection.execute(
            insert(t.webhook_endpoints).values(
                id=endpoint.id,
                url=endpoint.url,
                secret=endpoint.secret,
                event_types=list(endpoint.event_types),
                created_at=endpoint.created_at,
            )
        )
        uow.emit(
            "webhook_endpoint.created",
            {
                "webhook_endpoint_id": endpoint.id,
                "url": endpoint.url,
                "event_types": list(endpoint.event_types),
            },
        )
        await uow.commit()
    return endpoint


def _endpoint_from_row(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id, url=row.url, event_types=tuple(row.event_types), created_at=row.created_at
    )


async def list_webhook_endpoints(
    rt: Runtime, *, limit: int | None = None, cursor: str | None = None
) -> Page[WebhookEndpoint]:
    """The endpoints, oldest first, without their secrets."""
    size = check_limit(limit)
    columns = [column for column in t.webhook_endpoints.c if column.name != "secret"]
    async with rt.reading() as uow:
        query = paginate(select(*columns), t.webhook_endpoints.c.id, cursor, size)
        rows = (await uow.connection.execute(query)).all()
    return page_of([_endpoint_from_row(row) for row in rows], [row.id for row in rows], size)


__all__ = ["ALL_EVENTS", "WebhookEndpoint", "create_webhook_endpoint", "list_webhook_endpoints"]
