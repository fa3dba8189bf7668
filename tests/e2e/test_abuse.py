"""Hostile input through HTTP: each is a 4xx problem document naming what is wrong, and changes
nothing (SPEC §6: no input, however malformed, produces a 500)."""

from __future__ import annotations

from typing import Any

from seatledger.domain.events import EVENT_TYPES
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts


def fields_of(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


# -- webhook endpoints --------------------------------------------------------------------------


async def test_webhook_endpoints_take_only_the_event_catalogue(api: Api, runtime: Runtime) -> None:
    every = await api.post(
        "/v1/webhook-endpoints",
        {"url": "https://hooks.example.test/all", "event_types": sorted(EVENT_TYPES)},
    )
    assert sorted(every["event_types"]) == sorted(EVENT_TYPES)
    star = await api.post(
        "/v1/webhook-endpoints", {"url": "https://hooks.example.test/star", "event_types": ["*"]}
    )
    assert star["event_types"] == ["*"]
    counts = await row_counts(runtime)
    body = {
        "url": "https://hooks.example.test/x",
        "event_types": ["seat.claimed", "seat.exploded", "*", "invitation.email", "Seat.Claimed"],
    }
    response = await api.call("POST", "/v1/webhook-endpoints", json=body)
    problem(response, 422, "validation_error", "event_types[1]")
    assert fields_of(response) == ["event_types[1]", "event_types[3]", "event_types[4]"]
    assert await row_counts(runtime) == counts


async def test_webhook_endpoint_urls_must_be_http_or_https(api: Api, runtime: Runtime) -> None:
    counts = await row_counts(runtime)
    for url in [
        "ftp://hooks.example.test/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://hooks.example.test:70/",
        "ws://hooks.example.test/x",
        "//hooks.example.test/x",
        "hooks.example.test/x",
        "https://",
        "https:///path-only",
        "https://hooks.example.test:99999/x",
        "https://hooks.example.test/\x1b[31m",
        "https://" + "a" * 3000 + ".test/",
    ]:
        response = await api.call("POST", "/v1/webhook-endpoints", json={"url": url})
        problem(response, 422, "validation_error", "url")
    assert await row_counts(runtime) == counts
