"""The Stripe gateway against the fake Stripe API (``tests.fakes.stripe``), on both databases.

``fake``: the fake Stripe, a real HTTP server on a free loopback port, fresh for each test.
``stripe_runtime``: the test runtime with the real ``StripeGateway`` pointed at it (the sandbox
clock still drives time: renewals fall due when the test moves it).
``server``: the seatledger API served by uvicorn on a free loopback port, in the test's own
event loop, with the fake's webhook URL pointed at its ``/v1/stripe/webhooks``; the delivery
loop is not running: tests apply what arrived with ``apply_events`` (one delivery round).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db.payment_customers import PaymentCustomers
from seatledger.adapters.payments.stripe_gateway import StripeGateway
from seatledger.api.app import create_app
from seatledger.api.event_rendering import event_renderer
from seatledger.bootstrap import delivery_channels
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.services import api_keys, delivery
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    stripe = FakeStripe().start()
    yield stripe
    stripe.stop()


@pytest.fixture
def stripe_settings(database_url: str, fake: FakeStripe) -> Settings:
    return Settings(
        database_url=database_url,
        sandbox=True,
        payment_provider="stripe",
        stripe_secret_key=SECRET_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=fake.url,
        public_url="http://seatledger.test",
    )


@pytest.fixture
async def stripe_runtime(
    engine: AsyncEngine, clock: FixedClock, stripe_settings: Settings
) -> AsyncIterator[Runtime]:
    gateway = StripeGateway(
        secret_key=stripe_settings.stripe_secret_key,
        webhook_secret=stripe_settings.stripe_webhook_secret,
        api_base=stripe_settings.stripe_api_base,
        public_url=stripe_settings.public_url,
        customers=PaymentCustomers(engine, "stripe"),
    )
    yield Runtime(
        engine=engine,
        clock=clock,
        settings=stripe_settings,
        gateway=gateway,
        render_event=event_renderer(stripe_settings),
    )
    await gateway.close()


@dataclass
class Server:
    url: str
    client: httpx.AsyncClient  # with the merchant's API key
    runtime: Runtime


@pytest.fixture
async def server(stripe_runtime: Runtime, fake: FakeStripe) -> AsyncIterator[Server]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(stripe_runtime, delivery_loop=False)
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="on", log_config=None
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:
        await asyncio.sleep(0.01)
    fake.store.webhook_url = f"{url}/v1/stripe/webhooks"
    _, key = await api_keys.create_api_key(stripe_runtime, name="backend")
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        yield Server(url, client, stripe_runtime)
    uv.should_exit = True
    await task
    sock.close()


async def apply_events(rt: Runtime) -> None:
    """One delivery round of every channel: the Stripe events kept so far are applied."""
    await delivery.run_round(rt, delivery_channels(rt))


async def settle(fake: FakeStripe) -> None:
    """Wait until the fake has sent what it emitted (auto delivery runs in its own loop)."""
    for _ in range(200):
        if not fake.app.pending and not fake.store.outgoing:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the fake's events were not sent")
