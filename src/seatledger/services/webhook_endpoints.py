"""Webhook endpoints: where the merchant wants to hear of events, and the secrets that sign them.

Deliveries (each catalogued event sent to every endpoint that hears it, signed, retried) are
``seatledger.services.webhook_deliveries``.

* ``url``: an absolute ``https://`` URL (``http://`` is accepted for the sandbox and for
  ``localhost``-style hosts), at most 2000 characters. Outside the sandbox its host must
  resolve to public addresses only, unless ``SEATLEDGER_WEBHOOK_ALLOW_PRIVATE=1``
  (``seatledger.services.webhook_sender``); checked again before every send;
* ``event_types``: types of the closed catalogue (``seatledger.domain.events``, SPEC §10) or
  ``*`` for every event (the default); every unknown one is named (``event_types[2]``);
* ``secret``: ``whsec_`` and 24 random bytes in base64, as Standard Webhooks has it; shown in
  the answers to the creation and to a rotation only. A rotation keeps the previous secret
  signing beside the new one for ``ROTATION_OVERLAP`` (24 h by the runtime clock);
* ``enabled``: a disabled endpoint (by the merchant, or after 5 days of failures) hears no new
  event and is sent nothing; enabling it again sends its pending deliveries at once.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from seatledger.adapters.db.paging import paginating
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.config import Settings
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.events import ALL_EVENTS, EventType, unknown_event_types
from seatledger.domain.ids import new_id
from seatledger.domain.webhook import ROTATION_OVERLAP, WebhookEndpoint
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime
from seatledger.services.webhook_sender import RefusedDestination, checked_address

MAX_URL = 2000
MAX_DESCRIPTION = 500
MAX_EVENT_TYPES = 100
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def private_allowed(settings: Settings) -> bool:
    """Whether webhooks may go to loopback, private or link-local addresses."""
    return settings.sandbox or settings.webhook_allow_private


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


async def _check_destination(rt: Runtime, url: object) -> str:
    """``url`` checked (``_check_url``) and, unless private addresses are allowed, resolved to
    public addresses only: no server-side request forgery."""
    checked = _check_url(url, sandbox=rt.settings.sandbox)
    if not private_allowed(rt.settings):
        try:
            await checked_address(checked)
        except RefusedDestination as refused:
            raise ValidationFailed.field(
                "url", f"{refused}: webhooks go to public addresses only"
            ) from None
    return checked


def _check_description(description: object) -> str | None:
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise ValidationFailed.field(
            "description", f"must be a text of at most {MAX_DESCRIPTION} characters"
        )
    return description


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


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


async def create_webhook_endpoint(
    rt: Runtime,
    *,
    url: str,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
) -> WebhookEndpoint:
    """Register an endpoint; the answer carries its signing secret, this once."""
    checked_types = _check_event_types(event_types)
    endpoint = WebhookEndpoint(
        id=new_id("we"),
        url=await _check_destination(rt, url),
        event_types=checked_types,
        description=_check_description(description),
        created_at=rt.clock.now(),
        secret=_new_secret(),
    )
    async with rt.transaction() as uow:
        await uow.webhook_endpoints.add(endpoint)
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


async def _load(uow: UnitOfWork, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint:
    found = await uow.webhook_endpoints.get(endpoint_id, lock=lock)
    if found is None:
        raise NotFound("webhook endpoint")
    return found


async def get_webhook_endpoint(rt: Runtime, endpoint_id: str) -> WebhookEndpoint:
    """One endpoint, without its secret."""
    async with rt.reading() as uow:
        return await _load(uow, endpoint_id)


async def list_webhook_endpoints(
    rt: Runtime, *, limit: int | None = None, cursor: str | None = None
) -> Page[WebhookEndpoint]:
    """The endpoints, oldest first, without their secrets."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        endpoints = await uow.webhook_endpoints.page(paginating(cursor, size))
    return page_of(endpoints, [e.id for e in endpoints], size)


# A sentinel, typed to pass as a description: "not given", unlike None ("clear it").
_UNCHANGED: Any = object()


async def update_webhook_endpoint(
    rt: Runtime,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = _UNCHANGED,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (``description=None`` clears it). Disabling stops its sending;
    enabling a disabled endpoint forgets its failures and makes its pending deliveries due now."""
    values: dict[str, object] = {}
    if event_types is not None:
        values["event_types"] = list(_check_event_types(event_types))
    if description is not _UNCHANGED:
        values["description"] = _check_description(description)
    if url is not None:
        values["url"] = await _check_destination(rt, url)
    now = rt.clock.now()
    async with rt.transaction() as uow:
        endpoint = await _load(uow, endpoint_id, lock=True)
        if enabled is False and endpoint.enabled:
            values["disabled_at"] = now
        if enabled is True and not endpoint.enabled:
            values |= {"disabled_at": None, "failing_since": None}
            await uow.webhook_deliveries.wake(endpoint_id, now)
        await uow.webhook_endpoints.update(endpoint_id, **values)
        endpoint = await _load(uow, endpoint_id)
        await uow.commit()
    return endpoint


async def delete_webhook_endpoint(rt: Runtime, endpoint_id: str) -> None:
    """Forget the endpoint and its deliveries: nothing more is sent to it."""
    async with rt.transaction() as uow:
        await _load(uow, endpoint_id, lock=True)
        await uow.webhook_endpoints.delete(endpoint_id)
        await uow.commit()


async def rotate_webhook_secret(rt: Runtime, endpoint_id: str) -> WebhookEndpoint:
    """A new secret, answered this once; the current one keeps signing beside it for
    ``ROTATION_OVERLAP`` (a rotation during that time drops the oldest)."""
    secret = _new_secret()
    async with rt.transaction() as uow:
        endpoint = await _load(uow, endpoint_id, lock=True)
        await uow.webhook_endpoints.rotate(endpoint_id, secret, rt.clock.now() + ROTATION_OVERLAP)
        await uow.commit()
    return replace(endpoint, secret=secret)


__all__ = [
    "ALL_EVENTS",
    "WebhookEndpoint",
    "create_webhook_endpoint",
    "delete_webhook_endpoint",
    "get_webhook_endpoint",
    "list_webhook_endpoints",
    "private_allowed",
    "rotate_webhook_secret",
    "update_webhook_endpoint",
]
