"""The buyer's pages in a real browser (SPEC §11): the hosted checkout with and without
JavaScript, a declined card, and the confirmation's "invite your team" form."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.pages import checkout, invitation_link, open_checkout


@pytest.fixture
def page_without_js(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_buy_eight_seats_with_the_live_total(
    live_server: LiveServer, api: httpx.Client, page: Page
) -> None:
    opened = open_checkout(api, seats=3)
    page.goto(opened["url"])
    expect(page.get_by_role("heading", name="Team plan")).to_be_visible()
    expect(page.get_by_text("Desktop app license")).to_be_visible()
    total = page.locator("[data-total]")
    expect(total).to_have_text("$30.00")
    page.get_by_label("Number of seats").fill("0")
    expect(page.get_by_role("alert")).to_contain_text("must be at least 1")  # htmx swaps a 422
    expect(total).to_have_text("$30.00")
    page.get_by_label("Number of seats").fill("8")
    expect(total).to_have_text("$64.00")  # htmx: no button pressed
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("Seats 1–8 (tier 2)")).to_be_visible()
    assert checkout(api, opened["id"])["amount_due"] == 6400
    page.get_by_label("Test card that is accepted").check()
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(f"{live_server.base}/checkout/{opened['id']}/done")
    expect(page.get_by_role("heading", name="Thank you: your purchase is complete")).to_be_visible()
    expect(page.get_by_text("Total paid")).to_be_visible()
    expect(page.locator("tfoot")).to_contain_text("$64.00")
    bought = checkout(api, opened["id"])
    assert (bought["status"], bought["seats"]) == ("completed", 8)

    page.get_by_label("Email addresses").fill("ann@acme.test, ben@acme.test\ncy@acme.test")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Invitations sent: 3.")).to_be_visible()
    expect(page.get_by_role("cell", name="ben@acme.test")).to_be_visible()
    seats = api.get("/v1/seats", params={"subscription_id": bought["subscription_id"]}).json()
    assert sorted(seat["email"] for seat in seats["data"]) == [
        "ann@acme.test",
        "ben@acme.test",
        "cy@acme.test",
    ]
    assert "/claim/" in invitation_link(api, "ann@acme.test")


def test_buy_eight_seats_without_javascript(
    live_server: LiveServer, api: httpx.Client, page_without_js: Page
) -> None:
    page = page_without_js
    opened = open_checkout(api, seats=3)
    page.goto(opened["url"])
    total = page.locator("[data-total]")
    expect(total).to_have_text("$30.00")
    page.get_by_label("Number of seats").fill("8")
    page.get_by_role("button", name="Update total").click()
    page.wait_for_load_state()
    expect(total).to_have_text("$64.00")
    assert page.url == opened["url"]  # POST, then redirected back to the page
    page.get_by_label("Test card that is accepted").check()
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(f"{live_server.base}/checkout/{opened['id']}/done")
    expect(page.locator("tfoot")).to_contain_text("$64.00")
    page.get_by_label("Email addresses").fill("ann@acme.test\nben@acme.test")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Invitations sent: 2.")).to_be_visible()
    assert checkout(api, opened["id"])["seats"] == 8


def test_a_declined_card_leaves_the_checkout_open(
    live_server: LiveServer, api: httpx.Client, page: Page
) -> None:
    opened = open_checkout(api)
    page.goto(opened["url"])
    page.get_by_label("Test card that is declined").check()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("alert")).to_contain_text("Payment declined")
    expect(page.get_by_role("alert")).to_contain_text("still open")
    assert checkout(api, opened["id"])["status"] == "open"
    page.get_by_label("Test card that is accepted").check()
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(f"{live_server.base}/checkout/{opened['id']}/done")
    assert checkout(api, opened["id"])["status"] == "completed"
