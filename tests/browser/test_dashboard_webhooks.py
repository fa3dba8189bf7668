"""Webhook endpoints from the dashboard in a real browser without JavaScript: an endpoint is
added (its secret shown once), disabled and deleted; the API sees each step."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.test_dashboard_login import new_login, sign_in
from tests.browser.test_dashboard_products import merchant

__all__ = ["merchant"]  # the API client fixture, shared


@pytest.fixture(scope="module")
def login(live_server: LiveServer) -> str:
    return new_login(live_server)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_add_disable_and_delete_an_endpoint_without_javascript(
    live_server: LiveServer, login: str, merchant: httpx.Client, page: Page
) -> None:
    sign_in(page, live_server, login)
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("URL").fill("https://hooks.example/seatledger")
    page.get_by_label("Every event").uncheck()  # ticked on a new form
    page.get_by_label("seat.claimed").check()
    page.get_by_label("Description (optional)").fill("the CRM")
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_role("heading", name="Endpoint added")).to_be_visible()
    secret = page.get_by_label("Signing secret").input_value()
    assert secret.startswith("whsec_")
    listed = merchant.get("/v1/webhook-endpoints").json()["data"]
    (endpoint,) = [e for e in listed if e["url"] == "https://hooks.example/seatledger"]
    assert endpoint["event_types"] == ["seat.claimed"]

    page.get_by_role("link", name="The endpoint's settings and deliveries").click()
    page.get_by_label("Enabled").uncheck()
    page.get_by_role("button", name="Save the endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("The endpoint was saved.")
    assert secret not in page.content()
    assert merchant.get(f"/v1/webhook-endpoints/{endpoint['id']}").json()["enabled"] is False

    page.get_by_role("link", name="Delete this endpoint").click()
    page.get_by_role("button", name="Delete the endpoint").click()
    expect(page.get_by_role("status")).to_contain_text("nothing more is sent to it")
    assert merchant.get(f"/v1/webhook-endpoints/{endpoint['id']}").status_code == 404
