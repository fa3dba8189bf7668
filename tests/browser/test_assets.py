"""The pages' assets come from this server, and the base layout works in a real browser."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.browser.conftest import LiveServer


def test_no_request_leaves_the_server(live_server: LiveServer, page: Page) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{live_server.base}/docs")
    page.wait_for_load_state("networkidle")
    assert asked
    assert all(url.startswith(live_server.base) for url in asked), asked


def test_the_vendor_assets_are_served(live_server: LiveServer, page: Page) -> None:
    for path in ("/assets/vendor/htmx/htmx.min.js", "/assets/vendor/pico/pico.min.css"):
        response = page.request.get(f"{live_server.base}{path}")
        assert response.status == 200, path
        assert len(response.body()) > 10_000, path
