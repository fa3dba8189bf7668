"""The web pages in a real browser (Debian's chromium, driven by Playwright) against a real
``seatledger serve`` process on each configured database (SQLite always, PostgreSQL when
``SEATLEDGER_TEST_DATABASE_URL`` is set), with the sandbox on.

Browser tests are plain (sync) tests: Playwright's sync API must not run inside an event loop.
The server lives for a module (starting one costs seconds); each test gets a new API key
(``live.api``, an ``httpx.Client`` on the server) and builds its own data through the API, so
tests do not depend on each other's rows. The server's own clock is the sandbox clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from seatledger.adapters.db.engine import create_engine
from seatledger.config import Settings
from seatledger.domain.clock import SystemClock
from seatledger.services.api_keys import create_api_key
from seatledger.services.runtime import Runtime
from tests.integration.processes import clean_environment, serving

CHROMIUM = "/usr/bin/chromium"
# How long an action or an assertion waits: under two test processes on 2 cores a page can take
# longer than Playwright's default 5 s to show what a click changed.
TIMEOUT_MS = 15_000
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class LiveServer:
    base: str
    database_url: str
    env: dict[str, str]

    def new_key(self) -> str:
        """A fresh merchant API key on the server's database."""

        async def create() -> str:
            engine = create_engine(self.database_url)
            try:
                rt = Runtime(
                    engine=engine,
                    clock=SystemClock(),
                    settings=Settings(database_url=self.database_url, sandbox=True),
                    gateway=None,  # type: ignore[arg-type]  # keys take no payments
                )
                _key, plain = await create_api_key(rt, name="browser test")
                return plain
            finally:
                await engine.dispose()

        # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, create()).result()


expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("live")
    env = clean_environment(DATABASE_URL=database_url, SANDBOX="1")
    with serving(env, folder) as server:
        yield LiveServer(server.base, database_url, env)


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The server's API with a new merchant key."""
    key = live_server.new_key()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as client:
        yield client


# Per module, not per session: while Playwright's sync API is started it keeps an event loop
# running in this thread, and the async tests collected after the browser tests could not run.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A new browser context (no cookies) and its page."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()
