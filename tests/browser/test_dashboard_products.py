"""The tier editor in a real browser, with JavaScript on and off: a graduated product is
created, the price for 14 seats is the one SPEC §2 works out, and the API returns the
product as it was typed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.test_dashboard_login import new_login, sign_in
from tests.integration.processes import run


@pytest.fixture(scope="module")
def login(live_server: LiveServer) -> str:
    return new_login(live_server)


@pytest.fixture(scope="module")
def merchant(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The API with a key made by the real command (the browser's event loop is running, so
    the key is not made in this process)."""
    made = run(live_server.env, "keys", "create", "--name", "dashboard test")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(params=["javascript", "no javascript"])
def editor(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[Page, bool]]:
    javascript = request.param == "javascript"
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page(), javascript
    context.close()


def test_a_graduated_product_from_the_tier_editor(
    live_server: LiveServer, login: str, merchant: httpx.Client, editor: tuple[Page, bool]
) -> None:
    page, javascript = editor
    sign_in(page, live_server, login)
    page.get_by_role("link", name="Products").click()
    page.get_by_role("button", name="Create a seat product").click()
    page.get_by_label("Name", exact=True).fill("Graduated seats")
    page.get_by_label("Tiers mode").select_option("graduated")
    page.get_by_label("Tier 1 up to").fill("10")
    page.get_by_label("Tier 1 unit amount").fill("1000")
    page.get_by_role("button", name="Add a tier row").click()
    expect(page.get_by_label("Tier 2 up to")).to_be_visible()
    page.get_by_label("Tier 2 unit amount").fill("800")
    page.get_by_label("Quote one seat count").fill("14")
    if javascript:  # htmx brings the table as the fields change
        page.get_by_label("Quote one seat count").blur()
    else:
        page.get_by_role("button", name="Preview the price").click()
    expect(page.locator("#quote caption")).to_have_text("14 seats, graduated: $132.00")
    row = page.locator('#price-table tr[data-seats="14"]')
    expect(row.locator("td").nth(0)).to_have_text("$112.00")  # volume, beside it
    expect(row.locator("td").nth(1)).to_have_text("$132.00")
    page.get_by_role("button", name="Create the product").click()
    expect(page.get_by_role("status")).to_have_text("The product was created.")
    product_id = page.url.split("/")[-1].split("?")[0]
    product = merchant.get(f"/v1/products/{product_id}").json()
    assert product["name"] == "Graduated seats"
    (price,) = product["prices"]
    assert price["tiers_mode"] == "graduated"
    assert price["tiers"] == [
        {"up_to": 10, "unit_amount": 1000, "flat_amount": 0},
        {"up_to": None, "unit_amount": 800, "flat_amount": 0},
    ]
    quote = merchant.post(
        "/v1/checkouts",
        json={"price_id": price["id"], "seats": 14, "customer_email": "buyer@acme.test"},
    )
    assert quote.status_code == 201, quote.text
    assert quote.json()["amount_due"] == 13200


def test_a_bad_tier_is_marked_on_the_form(live_server: LiveServer, login: str, page: Page) -> None:
    sign_in(page, live_server, login)
    page.goto(f"{live_server.base}/dashboard/products/new")
    page.get_by_label("Name", exact=True).fill("Broken")
    page.get_by_label("Tier 1 unit amount").fill("ten dollars")
    page.get_by_role("button", name="Create the product").click()
    field = page.get_by_label("Tier 1 unit amount")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_be_visible()
