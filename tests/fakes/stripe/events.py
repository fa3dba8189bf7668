"""Events: the log (``GET /v1/events/{id}``, ``GET /v1/events``) and their delivery to the
webhook endpoint, signed exactly as Stripe signs: ``Stripe-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>" under the endpoint secret>``, the timestamp being the time of the
attempt (a late delivery is signed when it is sent)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any

import httpx

from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import list_object


def signature(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header of ``payload`` signed at ``timestamp`` (now)."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def body_of(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2)


async def send(
    store: Store, events: Sequence[dict[str, Any]], client: httpx.AsyncClient
) -> list[int]:
    """POST each event, in the order given, to the webhook URL; answers the statuses (0: the
    endpoint could not be reached)."""
    statuses = []
    for event in events:
        assert store.webhook_url is not None, "no webhook URL is configured"
        payload = body_of(event)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature(payload, store.webhook_secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        }
        try:
            response = await client.post(store.webhook_url, content=payload, headers=headers)
            statuses.append(response.status_code)
            store.deliveries.append((event["id"], response.status_code))
        except httpx.HTTPError:
            statuses.append(0)
    return statuses


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return store.get("event", path["id"])


def list_events(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    wanted = params.get("type")
    found = [e for e in reversed(store.events) if wanted in (None, e["type"])]
    return list_object("/v1/events", found[: int(params.get("limit", "10"))])


ROUTES = [
    ("GET", "/v1/events/{id}", retrieve),
    ("GET", "/v1/events", list_events),
]
