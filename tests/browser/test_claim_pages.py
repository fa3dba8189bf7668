"""The seat holder's pages in a real browser (SPEC §11): the claim page looked at (nothing
changes), the button that claims, the portal's seats with a license key and a download link,
and the plain page of a used or unknown link."""

from __future__ import annotations

import re
from uuid import uuid4

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.browser.pages import created, invitation_link, open_checkout


def _invited(api: httpx.Client, email: str) -> tuple[str, str]:
    """A paid subscription with a seat assigned to ``email``: (seat id, the emailed link)."""
    opened = open_checkout(api)
    paid = created(
        api.post(f"/v1/checkouts/{opened['id']}/confirm", json={"payment_method": "pm_card_ok"})
    )
    seat = created(
        api.post("/v1/seats", json={"subscription_id": paid["subscription_id"], "email": email})
    )
    return seat["id"], invitation_link(api, email)


def test_a_holder_claims_and_sees_the_benefits(
    live_server: LiveServer, api: httpx.Client, page: Page
) -> None:
    # Each module's server shares the test database: an address of this test's own.
    seat_id, link = _invited(api, f"ann-{uuid4().hex[:8]}@acme.test")
    assert link.startswith(live_server.base)
    for _ in range(2):  # a mail scanner, then Ann: looking changes nothing
        page.goto(link)
        expect(
            page.get_by_role("heading", name="Acme has a seat of Team plan for you")
        ).to_be_visible()
        assert created(api.get(f"/v1/seats/{seat_id}"))["status"] == "pending"
    expect(page.get_by_text("dana@acme.test")).to_be_visible()
    page.get_by_role("button", name="Claim my seat").click()
    page.wait_for_url(f"{live_server.base}/portal/seats")
    assert created(api.get(f"/v1/seats/{seat_id}"))["status"] == "claimed"
    expect(page.get_by_role("heading", name="Your seats at Acme")).to_be_visible()
    key = page.locator("code.license-key")
    expect(key).to_have_text(re.compile(r"^TEAM-[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$"))
    expect(page.get_by_role("button", name="Copy the license key")).to_be_visible()
    copy = page.locator("button[data-copy]")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.base)
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key.inner_text()
    download = page.get_by_role("link", name="Download guide.pdf")
    href = download.get_attribute("href")
    assert href is not None
    assert page.request.get(href).body() == b"%PDF-1.4 guide"
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["sl_portal"]["httpOnly"]
    assert cookies["sl_portal"]["sameSite"] == "Lax"

    page.goto(link)  # the link is spent
    expect(page.get_by_role("heading", name="This invitation link does not work")).to_be_visible()


def test_an_unknown_link_says_so(live_server: LiveServer, page: Page) -> None:
    response = page.goto(f"{live_server.base}/claim/not-a-real-token")
    assert response is not None
    assert response.status == 400
    expect(page.get_by_role("heading", name="This invitation link does not work")).to_be_visible()
