"""Seat alerts in a real browser: the billing manager sets thresholds in the portal (a refused
one first), invites people until 80% of the seats are used, receives the email (held by the
server: ``GET /v1/emails``) and sees the threshold reached on the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import created

SUBJECT = "Acme is using 4 of 5 seats of Team plan (80%)"


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The server's API with a new key, made in a thread of its own (Playwright's loop runs
    in this one once the browser is shared)."""
    with ThreadPoolExecutor(1) as pool:
        key = pool.submit(live_server.new_key).result()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as client:
        yield client


def _acme(api: httpx.Client) -> dict[str, Any]:
    """Acme with a 5-seat monthly subscription of Team plan; its billing manager's session."""
    price = {"currency": "usd", "interval": "month", "tiers": [{"up_to": None, "unit_amount": 900}]}
    product = created(api.post("/v1/products", json={"name": "Team plan", "prices": [price]}))
    company = created(
        api.post(
            "/v1/companies", json={"name": "Acme", "billing_manager": {"email": "dana@acme.test"}}
        )
    )
    checkout = created(
        api.post(
            "/v1/checkouts",
            json={"price_id": product["prices"][0]["id"], "seats": 5, "company_id": company["id"]},
        )
    )
    done = created(
        api.post(f"/v1/checkouts/{checkout['id']}/confirm", json={"payment_method": "pm_card_ok"})
    )
    session = created(
        api.post("/v1/customer-sessions", json={"member_id": company["billing_manager_member_id"]})
    )
    return {
        "company_id": company["id"],
        "product_id": product["id"],
        "subscription_id": done["subscription_id"],
        "token": session["token"],
    }


def _alert_email(api: httpx.Client, timeout: float = 20) -> dict[str, Any]:
    """The billing manager's alert email, once the server's delivery loop has written it
    (other modules' servers share the database: it is found by its subject)."""
    deadline = time.monotonic() + timeout
    while True:
        emails = created(api.get("/v1/emails", params={"to": "dana@acme.test", "limit": 100}))
        found = [email for email in emails["data"] if email["subject"] == SUBJECT]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "no seat alert email to dana@acme.test"
        time.sleep(0.2)


def test_thresholds_set_in_the_portal_are_reached_told_and_shown(
    live_server: LiveServer, page: Page, api: httpx.Client
) -> None:
    acme = _acme(api)
    key = f"thresholds-{acme['product_id']}"
    page.context.add_cookies(
        [{"name": "sl_portal", "value": acme["token"], "url": live_server.base}]
    )
    page.goto(f"{live_server.base}/portal/manage")
    page.get_by_role("link", name="Seat alerts").click()
    field = page.get_by_label("Alert thresholds for Team plan")
    field.fill("80, 120")
    page.get_by_role("button", name="Save the thresholds").click()
    expect(page.locator(f"#{key}-error")).to_have_text(
        "Threshold 2 (120): an integer from 1 to 100."
    )
    expect(field).to_have_value("80, 120")
    assert api.get(f"/v1/companies/{acme['company_id']}/seat-alerts").json() == {"data": []}
    field.fill("100, 80")
    page.get_by_role("button", name="Save the thresholds").click()
    expect(page.get_by_role("status")).to_have_text("Seat alerts saved: 80%, 100%.")
    expect(page.locator(f"#{key}-state")).to_have_text("80%, 100%")
    expect(page.locator(f"#{key}-usage")).to_have_text("0 of 5 (0%)")

    page.get_by_role("link", name="Subscriptions and orders").click()
    page.get_by_role("link", name="Team plan (monthly)").click()
    page.get_by_label("Email addresses").fill(
        "ann@acme.test, bob@acme.test, cy@acme.test, dee@acme.test"
    )
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("status")).to_contain_text("Invited 4")

    email = _alert_email(api)
    assert f"{SUBJECT}." in email["text"]
    page.get_by_role("link", name="Seat alerts").click()
    expect(page.locator(f"#{key}-usage")).to_have_text("4 of 5 (80%)")
    expect(page.locator(f"#{key}-state")).to_have_text("80% (reached), 100%")
