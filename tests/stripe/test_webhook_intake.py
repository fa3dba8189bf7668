"""``POST /v1/stripe/webhooks``: only what Stripe signed with the endpoint's secret, within
300 seconds, is kept; anything else is a 400 problem and changes nothing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.services import provider_events
from tests.e2e.api import problem, row_counts
from tests.fakes.stripe import WEBHOOK_SECRET, FakeStripe
from tests.fakes.stripe.events import body_of, signature
from tests.stripe.conftest import Server

pytestmark = pytest.mark.db

EVENT = {
    "id": "evt_forged000001",
    "object": "event",
    "type": "checkout.session.completed",
    "created": 1,
    "data": {"object": {"id": "cs_test_x", "object": "checkout.session"}},
}


async def _post(server: Server, body: str | bytes, header: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return await server.client.post("/v1/stripe/webhooks", content=body, headers=headers)


async def test_forged_stale_unsigned_and_malformed_events_are_refused(server: Server) -> None:
    before = await row_counts(server.runtime)
    body = body_of(EVENT)
    now = int(time.time())
    refused = {
        "forged": await _post(server, body, signature(body, "whsec_someone_else")),
        "stale": await _post(server, body, signature(body, WEBHOOK_SECRET, now - 301)),
        "unsigned": await _post(server, body, None),
        "garbled header": await _post(server, body, "t=abc,v1=zzz"),
        "altered body": await _post(
            server, body.replace("cs_test_x", "cs_test_y"), signature(body, WEBHOOK_SECRET)
        ),
        "not json": await _post(server, b"\xff{", signature("\ufffd{", WEBHOOK_SECRET)),
        "not an event": await _post(server, "[1]", signature("[1]", WEBHOOK_SECRET)),
    }
    for case, response in refused.items():
        assert problem(response, 400, "invalid_provider_event")["detail"], case
    assert await row_counts(server.runtime) == before


async def test_a_signed_event_is_kept_once_and_answered_at_once(server: Server) -> None:
    body = body_of(EVENT)
    first = await _post(server, body, signature(body, WEBHOOK_SECRET))
    again = await _post(server, body, signature(body, WEBHOOK_SECRET))
    assert first.json() == {"received": True, "duplicate": False}
    assert again.json() == {"received": True, "duplicate": True}
    counts = await row_counts(server.runtime)
    assert counts["provider_events"] == 1


async def test_an_event_about_an_unknown_object_is_retried_then_kept_failing(
    server: Server, fake: FakeStripe
) -> None:
    body = body_of(EVENT)  # names a session the fake never made: re-reading it fails
    await _post(server, body, signature(body, WEBHOOK_SECRET))
    now = datetime.now(UTC)
    assert await provider_events.process_due(server.runtime, now=now) == 1
    assert await provider_events.process_due(server.runtime, now=now) == 0  # not due yet
    async with server.runtime.engine.connect() as c:
        row = (await c.execute(select(t.provider_events))).one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "No such checkout session" in row.last_error
    later = now
    for delay in provider_events.RETRY_DELAYS:
        later += delay + timedelta(minutes=5)
        await provider_events.process_due(server.runtime, now=later)
    async with server.runtime.engine.connect() as c:
        row = (await c.execute(select(t.provider_events))).one()
    assert (row.status, row.attempts) == ("failed", len(provider_events.RETRY_DELAYS) + 1)
    assert fake.count("GET", "/v1/checkout/sessions/") == len(provider_events.RETRY_DELAYS) + 1
