"""The pages around the API (SPEC §8, §11): `/` links the docs, `/docs` and `/redoc` work offline
(every asset served by the app, none from a CDN), `/healthz` and `/readyz` for orchestrators."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from seatledger.adapters.db import migrations
from seatledger.adapters.payments.local import LocalGateway
from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.services.runtime import Runtime
from tests.e2e.api import problem


class _Page(HTMLParser):
    """What a page refers to (scripts, styles, icons, links) and its landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.references: list[str] = []
        self.links: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        self._in_title = tag == "title"
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        for name in ("src", "href", "spec-url"):
            if tag != "a" and found.get(name):
                self.references.append(str(found[name]))

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False


def _read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


async def test_the_home_page_links_the_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = _read(response.text)
    assert ("html", {"lang": "en"}) in page.tags
    assert page.title == "seatledger"
    assert [tag for tag, _ in page.tags].count("main") == 1
    assert {"/docs", "/redoc", "/openapi.json"} <= set(page.links)
    for link in page.links:
        assert (await client.get(link)).status_code == 200, link


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_work_offline(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "http://" not in response.text
    assert "https://" not in response.text
    page = _read(response.text)
    assert ("html", {"lang": "en"}) in page.tags
    assert page.title.startswith("seatledger API")
    scripts = [r for r in page.references if r.endswith(".js")]
    assert len(scripts) == 1
    assert "/openapi.json" in response.text
    for reference in page.references:
        assert reference.startswith("/"), reference
        assert not reference.startswith("//"), reference
        asset = await client.get(reference)
        assert asset.status_code == 200, reference
        assert asset.content, reference
    if path == "/docs":
        assert any(r.endswith(".css") for r in page.references)


async def test_health_needs_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_ready_when_the_database_is_at_the_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")  # no credential
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "schema_revision": migrations.head_revision()}


@pytest.fixture
async def fresh_engine(tmp_path: Path) -> AsyncIterator[tuple[str, AsyncEngine]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    engine = create_async_engine(url)
    yield url, engine
    await engine.dispose()


async def _readyz(url: str, engine: AsyncEngine) -> httpx.Response:
    runtime = Runtime(
        engine=engine,
        clock=FixedClock(),
        settings=Settings(database_url=url, sandbox=True),
        gateway=LocalGateway(),
    )
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        assert (await client.get("/healthz")).status_code == 200  # alive, whatever the database
        return await client.get("/readyz")


async def test_not_ready_before_the_migrations(fresh_engine: tuple[str, AsyncEngine]) -> None:
    body = problem(await _readyz(*fresh_engine), 503, "not_ready")
    assert "not migrated: run `seatledger migrate`" in body["detail"]


async def test_not_ready_behind_the_head(fresh_engine: tuple[str, AsyncEngine]) -> None:
    url, engine = fresh_engine
    migrations.upgrade(url, "0003")
    body = problem(await _readyz(url, engine), 503, "not_ready")
    assert "at revision 0003" in body["detail"]
    assert "run `seatledger migrate`" in body["detail"]
    migrations.upgrade(url)
    assert (await _readyz(url, engine)).status_code == 200


async def test_not_ready_on_a_revision_it_does_not_know(
    fresh_engine: tuple[str, AsyncEngine],
) -> None:
    url, engine = fresh_engine
    migrations.upgrade(url)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    body = problem(await _readyz(url, engine), 503, "not_ready")
    assert "9999, which this server does not know" in body["detail"]


async def test_not_ready_when_the_database_does_not_answer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'folder' / 'db.sqlite3'}"
    engine = create_async_engine(url)
    before = set(threading.enumerate())
    try:
        body = problem(await _readyz(url, engine), 503, "not_ready")
    finally:
        await engine.dispose()
        # aiosqlite stops the thread of a connection that failed to open by answering a future
        # on this loop: let it finish while the loop still runs, or it answers a closed loop.
        for thread in set(threading.enumerate()) - before:
            await asyncio.to_thread(thread.join, 10)
    assert body["detail"] == "The database does not answer."
