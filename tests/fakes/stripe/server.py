"""The fake Stripe as a real HTTP server on a free loopback port, in a thread of its own, and
the handle tests hold: its URL, its knobs, and the customer's actions on Stripe's pages.

    fake = FakeStripe().start()        # stripe.api_base / SEATLEDGER_STRIPE_API_BASE = fake.url
    fake.fail_next(2, 429)             # the next two requests answer 429, then all is well
    fake.fail_next(1, 500, after=True) # the next request runs, but its answer is lost
    fake.store.knobs.down = True       # every request answers 500
    fake.hold_events()                 # events wait for ``await fake.deliver(...)``
    await fake.complete_session(session_id, "pm_card_visa")
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import uvicorn

from tests.fakes.stripe import events
from tests.fakes.stripe.app import FakeApp
from tests.fakes.stripe.state import Store

SECRET_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
T = TypeVar("T")


class FakeStripe:
    def __init__(self) -> None:
        self.store = Store(webhook_secret=WEBHOOK_SECRET)
        self.app = FakeApp(self.store)
        self._loop = asyncio.new_event_loop()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> FakeStripe:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.store.base_url = self.url
        # log_config=None: uvicorn leaves the test process's logging as it found it (its own
        # dictConfig would stop its loggers propagating, for every test after this one).
        config = uvicorn.Config(
            self.app.asgi, log_level="warning", access_log=False, lifespan="off", log_config=None
        )
        self._server = uvicorn.Server(config)
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            task = self._loop.create_task(self._server.serve(sockets=[sock]))  # type: ignore[union-attr]
            self._loop.call_soon(started.set)
            self._loop.run_until_complete(task)

        self._thread = threading.Thread(target=run, name="fake-stripe", daemon=True)
        self._thread.start()
        started.wait(10)
        while not self._server.started:
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            closing = asyncio.run_coroutine_threadsafe(self.app.client.aclose(), self._loop)
            closing.result(10)
            self._server.should_exit = True
            self._thread.join(10)
            self._loop.close()

    async def _in_fake(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the fake's loop, awaited from the caller's."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))

    # Knobs.
    def fail_next(self, count: int, status: int, *, after: bool = False) -> None:
        queue = self.store.knobs.fail_after if after else self.store.knobs.fail_before
        queue.extend([status] * count)

    def hold_events(self, hold: bool = True) -> None:
        self.store.knobs.hold_events = hold

    def queued(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.store.outgoing if event_type in (None, e["type"])]

    async def deliver(
        self,
        event_types: tuple[str, ...] | None = None,
        *,
        reverse: bool = False,
        twice: bool = False,
    ) -> list[int]:
        """Send the held events (only those of ``event_types`` when given; the others stay
        held): in order, reversed, or each twice. Answers the endpoint's statuses."""
        chosen = [e for e in self.store.outgoing if event_types is None or e["type"] in event_types]
        self.store.outgoing[:] = [e for e in self.store.outgoing if e not in chosen]
        if reverse:
            chosen.reverse()
        if twice:
            chosen = [e for e in chosen for _ in range(2)]
        return await self._in_fake(events.send(self.store, chosen, self.app.client))

    # The customer on Stripe's pages.
    async def complete_session(self, session_id: str, card: str = "pm_card_visa") -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url) as client:
            return await client.post(f"/_fake/checkout/{session_id}/complete", data={"card": card})

    async def authenticate(self, intent_id: str, outcome: str = "succeed") -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url) as client:
            return await client.post(
                f"/_fake/payment_intents/{intent_id}/authenticate", data={"outcome": outcome}
            )

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.store.objects.values() if o["object"] == kind]

    def count(self, method: str, path_prefix: str) -> int:
        """How many requests reached the fake (refused ones included) for this route."""
        return sum(1 for m, p in self.store.requests if m == method and p.startswith(path_prefix))
