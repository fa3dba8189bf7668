"""``make run``'s default is unchanged: the local gateway in the sandbox, no Stripe route that
does anything, no provider-events channel in the delivery loop."""

from __future__ import annotations

import httpx
import pytest

from seatledger.api.app import create_app
from seatledger.bootstrap import build_runtime, delivery_channels
from seatledger.config import Settings
from seatledger.services import checkouts
from seatledger.services.runtime import Runtime
from tests.e2e.api import problem
from tests.integration import shop

pytestmark = pytest.mark.db


def test_the_default_runtime_is_the_local_gateway_without_provider_events(
    database_url: str,
) -> None:
    rt = build_runtime(Settings(database_url=database_url, sandbox=True))
    assert rt.gateway.name == "local"
    assert [channel.name for channel in delivery_channels(rt)] == ["emails", "webhooks"]


async def test_the_stripe_routes_are_not_found_with_the_local_gateway(runtime: Runtime) -> None:
    (price_id,) = await shop.product(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@b.test"
    )
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        webhook = await client.post("/v1/stripe/webhooks", content='{"id": "evt_1"}')
        problem(webhook, 404, "not_found")
        problem(await client.post(f"/checkout/{checkout.id}/stripe"), 404, "not_found")
