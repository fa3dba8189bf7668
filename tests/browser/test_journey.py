"""The buyer's whole journey in one real browser, through the pages only (the API makes the
merchant's product and reads what the pages did): the hosted checkout for 3 seats paid with the
sandbox's test card, the team invited from the confirmation, a seat claimed from the emailed
link with its license key, the pool raised to 8 seats after reading the preview, the switch to
the annual price, and the invoice downloaded as a PDF. A plain member is kept off the
manager's pages.

The sandbox clock stands still while the test runs: the purchase and each change happen at
instants the test knows, so the amounts are worked out here from SPEC §2's proration rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from io import BytesIO
from typing import Any
from uuid import uuid4

import httpx
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from seatledger.web.templating import money
from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.pages import VOLUME, created, invitation_link

YEARLY = {
    **VOLUME,
    "interval": "year",
    "tiers": [{"up_to": 5, "unit_amount": 10000}, {"up_to": None, "unit_amount": 8000}],
}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _set_clock(api: httpx.Client, moment: datetime) -> None:
    created(api.post("/v1/sandbox/clock", json={"now": _stamp(moment)}))


def _half_even(amount: Fraction) -> int:
    return round(amount)  # Fraction rounds half to even


def _shop(api: httpx.Client, manager: str) -> tuple[str, dict[str, Any]]:
    """A product with a license key, priced monthly (volume tiers) and yearly; a company whose
    billing manager is ``manager``; a checkout for 1 seat: (the monthly price id, checkout)."""
    benefit = created(
        api.post(
            "/v1/benefits",
            json={
                "type": "license_key",
                "description": "Desktop app license",
                "properties": {"prefix": "TEAM"},
            },
        )
    )
    product = created(
        api.post(
            "/v1/products",
            json={"name": "Team plan", "benefit_ids": [benefit["id"]], "prices": [VOLUME, YEARLY]},
        )
    )
    company = created(
        api.post("/v1/companies", json={"name": "Acme", "billing_manager": {"email": manager}})
    )
    monthly = product["prices"][0]["id"]
    opened = created(
        api.post(
            "/v1/checkouts", json={"price_id": monthly, "seats": 1, "company_id": company["id"]}
        )
    )
    return monthly, opened


def _preview_rows(page: Page, count: int) -> list[list[str]]:
    """The preview's ``count`` lines, once the page showing them has loaded."""
    rows = page.locator("#preview-lines tbody tr")
    expect(rows).to_have_count(count)
    return [rows.nth(i).locator("td").all_inner_texts() for i in range(count)]


def test_from_the_checkout_to_an_annual_pool_of_eight(
    live_server: LiveServer, browser: Browser, api: httpx.Client, page: Page
) -> None:
    tag = uuid4().hex[:8]  # the modules' servers share the database: addresses of our own
    manager, ann, ben = (f"{name}-{tag}@acme.test" for name in ("dana", "ann", "ben"))
    bought_at = _instant(created(api.get("/v1/sandbox/clock"))["now"]) + timedelta(minutes=1)
    _set_clock(api, bought_at)
    monthly, opened = _shop(api, manager)

    # The buyer: the checkout's url, 3 seats, the accepted test card.
    page.goto(opened["url"])
    page.get_by_label("Number of seats").fill("3")
    expect(page.locator("[data-total]")).to_have_text("$30.00")  # htmx
    page.get_by_label("Test card that is accepted").check()
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(f"{live_server.base}/checkout/{opened['id']}/done")
    expect(page.locator("tfoot")).to_contain_text("$30.00")
    subscription_id = created(api.get(f"/v1/checkouts/{opened['id']}"))["subscription_id"]

    # Two people invited at once from the confirmation.
    page.get_by_label("Email addresses").fill(f"{ann}, {ben}")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Invitations sent: 2.")).to_be_visible()

    # Ann claims from the emailed link, in a browser of her own, and sees her license key.
    ann_context = browser.new_context()
    ann_context.set_default_timeout(TIMEOUT_MS)
    try:
        ann_page = ann_context.new_page()
        ann_page.goto(invitation_link(api, ann))
        ann_page.get_by_role("button", name="Claim my seat").click()
        ann_page.wait_for_url(f"{live_server.base}/portal/seats")
        expect(ann_page.locator("code.license-key")).to_have_text(
            re.compile(r"^TEAM-[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")
        )
        # A plain member: the manager's pages are not hers.
        refused = ann_page.goto(f"{live_server.base}/portal/manage")
        assert refused is not None
        assert refused.status == 403
        refused = ann_page.goto(f"{live_server.base}/portal/subscriptions/{subscription_id}")
        assert refused is not None
        assert refused.status == 403
    finally:
        ann_context.close()

    # The manager, hours later (within the portal session's day), raises the pool to 8 seats
    # after reading the preview.
    subscription = created(api.get(f"/v1/subscriptions/{subscription_id}"))
    start = _instant(subscription["current_period_start"])
    end = _instant(subscription["current_period_end"])
    assert start == bought_at
    changed_at = start + timedelta(hours=7, minutes=13, seconds=29)
    _set_clock(api, changed_at)
    f = Fraction(int((end - changed_at).total_seconds()), int((end - start).total_seconds()))
    raise_amount = _half_even((6400 - 3000) * f)  # 8 × 8.00 against 3 × 10.00, volume tiers

    page.get_by_role("link", name="Go to the portal").click()
    page.goto(f"{live_server.base}/portal/subscriptions/{subscription_id}")
    page.get_by_label("New seat count").fill("8")
    page.get_by_role("button", name="Preview the change").click()
    (row,) = _preview_rows(page, 1)
    assert re.fullmatch(r"Seats 3 → 8, [A-Z][a-z]{2} \d+ – [A-Z][a-z]{2} \d+", row[0]), row
    assert row[1:] == ["1", money(raise_amount, "usd"), money(raise_amount, "usd")]
    expect(page.locator("#due-now")).to_contain_text(f"Due now: {money(raise_amount, 'usd')}")
    page.get_by_role(
        "button", name=f"Confirm the change and pay {money(raise_amount, 'usd')}"
    ).click()
    expect(page.locator("#seats-bought")).to_have_text("8")
    invoices = created(api.get("/v1/invoices", params={"subscription_id": subscription_id}))
    (raised,) = [i for i in invoices["data"] if i["reason"] == "subscription_update"]
    assert (raised["total"], raised["status"]) == (raise_amount, "paid")
    assert [line["amount"] for line in raised["lines"]] == [raise_amount]
    seat_line = raised["lines"][0]["description"]
    assert seat_line == row[0]

    # The switch to the yearly price: the unused month back as credit, a full year charged.
    switched_at = changed_at + timedelta(hours=2)
    _set_clock(api, switched_at)
    f = Fraction(int((end - switched_at).total_seconds()), int((end - start).total_seconds()))
    credit = -_half_even(6400 * f)
    year = 8 * 8000
    page.get_by_label("New price").select_option(label="Team plan, yearly")
    page.get_by_role("button", name="Preview the switch").click()
    rows = _preview_rows(page, 2)
    assert sorted(r[3] for r in rows) == sorted([money(credit, "usd"), money(year, "usd")]), rows
    due = money(year + credit, "usd")
    expect(page.locator("#due-now")).to_contain_text(f"Due now: {due}")
    page.get_by_role("button", name=f"Confirm the change and pay {due}").click()
    expect(page.locator("#seats-bought")).to_have_text("8")
    after = created(api.get(f"/v1/subscriptions/{subscription_id}"))
    assert after["price_id"] != monthly
    invoices = created(api.get("/v1/invoices", params={"subscription_id": subscription_id}))
    totals = sorted(i["total"] for i in invoices["data"])
    assert totals == sorted([3000, raise_amount, year + credit])
    (switch,) = [i for i in invoices["data"] if i["total"] == year + credit]
    assert sorted(line["amount"] for line in switch["lines"]) == sorted([credit, year])
    assert _instant(after["current_period_start"]) == switched_at

    # The seat change's invoice as a PDF, from the portal's invoices.
    page.get_by_role("link", name="Invoices", exact=True).click()
    page.get_by_role("link", name=raised["number"]).click()
    # The browser shows it inline; the same request with the manager's cookies reads it.
    href = page.get_by_role("link", name="Download the PDF").get_attribute("href")
    assert href is not None
    answer = page.request.get(f"{live_server.base}{href}" if href.startswith("/") else href)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert f"{raised['number']}.pdf" in answer.headers["content-disposition"]
    document = answer.body()
    assert document.startswith(b"%PDF-")
    drawn = _drawn_text(document)
    assert drawn[0] == f"Invoice {raised['number']}"
    line = drawn.index(seat_line)  # the seat change's line: its description, then its figures
    assert drawn[line + 1 : line + 4] == [
        "1",
        money(raise_amount, "usd"),
        money(raise_amount, "usd"),
    ]
    assert drawn[drawn.index("Total") + 1] == money(raise_amount, "usd")


def _drawn_text(document: bytes) -> list[str]:
    """The PDF's text as drawn, one string per cell, in drawing order (read with pypdf)."""
    drawn: list[str] = []

    def visit(text: str, *_: object) -> None:
        if text.strip():
            drawn.append(text.strip())

    for page in PdfReader(BytesIO(document)).pages:
        page.extract_text(visitor_text=visit)
    return drawn
