"""Every page audited by axe-core in a real browser: no violation of impact "serious" or
"critical" (WCAG 2.2 A/AA and axe's best practices, no rule turned off), on the buyer's, the
holder's, the billing manager's and the merchant's pages, in their plain and error states,
in the light and the dark colour scheme (the pages follow the visitor's)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.axe import AXE, blocking
from tests.browser.conftest import TIMEOUT_MS, LiveServer
from tests.browser.pages import VOLUME, created, open_checkout
from tests.browser.test_dashboard_login import PASSWORD, new_login

SCHEMES = ["light", "dark"]


@dataclass
class Site:
    """Objects of one merchant, made through the API, and the pages that show them."""

    portal: dict[str, str]  # page name → address, seen by Acme's billing manager
    dashboard: dict[str, str]  # page name → address, seen by a signed-in merchant
    public: dict[str, str]  # page name → address, seen by anyone
    manager_token: str
    member_token: str
    holder_token: str
    login: str


def _confirm(api: httpx.Client, checkout_id: str) -> dict[str, Any]:
    return created(
        api.post(f"/v1/checkouts/{checkout_id}/confirm", json={"payment_method": "pm_card_ok"})
    )


def _session(api: httpx.Client, member_id: str) -> str:
    return str(created(api.post("/v1/customer-sessions", json={"member_id": member_id}))["token"])


def _portal_pages(api: httpx.Client, opened: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Acme's subscription (3 seats, two assigned), an order of a one-time product, and the
    manager's pages; also the token of a member who claimed a seat."""
    subscription_id = str(_confirm(api, opened["id"])["subscription_id"])
    company_id = opened["company_id"]
    one_time = created(
        api.post(
            "/v1/products",
            json={
                "name": "Perpetual licence",
                "prices": [
                    {
                        "currency": "usd",
                        "interval": None,
                        "tiers": [{"up_to": None, "unit_amount": 5000}],
                    }
                ],
            },
        )
    )
    order = created(
        api.post(
            "/v1/checkouts",
            json={"price_id": one_time["prices"][0]["id"], "seats": 2, "company_id": company_id},
        )
    )
    order_id = str(_confirm(api, order["id"])["order_id"])
    pending = created(
        api.post("/v1/seats", json={"subscription_id": subscription_id, "email": "ann@acme.test"})
    )
    claimed = created(
        api.post("/v1/seats", json={"subscription_id": subscription_id, "email": "bob@acme.test"})
    )
    holder = created(api.post(f"/v1/claims/{claimed['invitation']['token']}"))
    invoice = created(api.get("/v1/invoices", params={"subscription_id": subscription_id}))
    # Seat alerts on the subscription's product: 2 of 3 seats reach 50%, not 100%.
    subscription = created(api.get(f"/v1/subscriptions/{subscription_id}"))
    products = created(api.get("/v1/products", params={"limit": 100}))["data"]
    (team,) = [
        p for p in products if subscription["price_id"] in [price["id"] for price in p["prices"]]
    ]
    created(
        api.put(
            f"/v1/companies/{company_id}/seat-alerts",
            json={"product_id": team["id"], "thresholds": [50, 100]},
        )
    )
    sub = f"/portal/subscriptions/{subscription_id}"
    return {
        "manager home": "/portal/manage",
        "pool": sub,
        "change preview": f"{sub}/change?seats=8",
        "change refused": f"{sub}/change?seats=0",
        "cancel": f"{sub}/cancel?when=period_end",
        "cancel now": f"{sub}/cancel?when=now",
        "revoke confirmation": f"/portal/seats/{pending['id']}/revoke",
        "order": f"/portal/orders/{order_id}",
        "invoices": "/portal/invoices",
        "seat alerts": "/portal/seat-alerts",
        "invoice": f"/portal/invoices/{invoice['data'][0]['id']}",
        "unknown subscription": "/portal/subscriptions/sub_00000000000000000000000000",
        "claim used": f"/claim/{claimed['invitation']['token']}",
        "claim valid": f"/claim/{pending['invitation']['token']}",
    }, str(holder["session_token"])


def _dashboard_pages(api: httpx.Client, company_id: str, product_id: str) -> dict[str, str]:
    endpoint = created(
        api.post(
            "/v1/webhook-endpoints",
            json={"url": "https://hooks.example.com/seatledger", "event_types": ["*"]},
        )
    )
    return {
        "home": "/dashboard",
        "products": "/dashboard/products",
        "tier editor": "/dashboard/products/new",
        "tier editor quote": "/dashboard/products/new",  # with a quote and a bad tier, below
        "product": f"/dashboard/products/{product_id}",
        "new price": f"/dashboard/products/{product_id}/prices/new",
        "companies": "/dashboard/companies",
        "companies search": "/dashboard/companies?q=Acme",
        "companies search refused": "/dashboard/companies?by=email&q=not%20an%20address",
        "company": f"/dashboard/companies/{company_id}",
        "subscriptions": "/dashboard/subscriptions",
        "orders": "/dashboard/orders",
        "invoices": "/dashboard/invoices",
        "webhooks": "/dashboard/webhooks",
        "webhook endpoint": f"/dashboard/webhooks/{endpoint['id']}",
        "emails": "/dashboard/emails",
        "events": "/dashboard/events",
        "clock": "/dashboard/clock",
    }


@pytest.fixture(scope="module")
def site(live_server: LiveServer) -> Iterator[Site]:
    headers = {"Authorization": f"Bearer {live_server.new_key()}"}
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as api:
        opened = open_checkout(api)
        products = created(api.get("/v1/products", params={"limit": 100}))["data"]
        (product,) = [p for p in products if p["prices"][0]["id"] == opened["price_id"]]
        # A yearly price too: the pool page offers the switch, previewed with its credit line.
        yearly = created(
            api.post(f"/v1/products/{product['id']}/prices", json={**VOLUME, "interval": "year"})
        )
        portal, holder_token = _portal_pages(api, opened)
        portal["switch preview"] = f"{portal['pool']}/change?price_id={yearly['id']}"
        company = created(api.get(f"/v1/companies/{opened['company_id']}"))
        member = created(
            api.post(f"/v1/companies/{company['id']}/members", json={"email": "cy@acme.test"})
        )
        public = {
            "home": "/",
            "claim valid": portal.pop("claim valid"),
            "claim used": portal.pop("claim used"),
            "claim unknown": "/claim/not-a-real-token",
            "dashboard login": "/dashboard/login",
            "portal without a session": "/portal/manage",
        }
        yield Site(
            portal=portal,
            dashboard=_dashboard_pages(api, company["id"], product["id"]),
            public=public,
            manager_token=_session(api, company["billing_manager_member_id"]),
            member_token=_session(api, member["id"]),
            holder_token=holder_token,
            login=new_login(live_server),
        )


@pytest.fixture(params=SCHEMES)
def context(request: pytest.FixtureRequest, browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(color_scheme=request.param)
    made.set_default_timeout(TIMEOUT_MS)
    yield made
    made.close()


def _enter(context: BrowserContext, live_server: LiveServer, token: str) -> Page:
    context.add_cookies([{"name": "sl_portal", "value": token, "url": live_server.base}])
    return context.new_page()


def _audit(page: Page, where: str, failures: list[str]) -> None:
    found = blocking(page, f"{where} ({page.url})")
    if found:
        failures.append(found)


def _refuse_thresholds(page: Page) -> None:
    """The first product's seat alerts sent with a threshold out of range."""
    form = page.locator("article.seat-alerts form").first
    form.get_by_role("textbox").fill("50, 101")
    form.get_by_role("button", name="Save the thresholds").click()
    expect(page.locator(".field-error")).to_be_visible()


def test_axe_is_not_served_by_the_app(live_server: LiveServer, page: Page) -> None:
    assert AXE.is_file()
    for path in ("/assets/vendor/axe-core/axe.min.js", "/assets/app/axe.min.js"):
        answer = page.request.get(f"{live_server.base}{path}")
        assert answer.status == 404, path


def test_public_pages(live_server: LiveServer, site: Site, context: BrowserContext) -> None:
    page = context.new_page()
    failures: list[str] = []
    for name, path in site.public.items():
        page.goto(f"{live_server.base}{path}")
        _audit(page, name, failures)
    page.goto(f"{live_server.base}/dashboard/login")
    page.get_by_label("Email").fill("nobody@merchant.test")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _audit(page, "dashboard login refused", failures)
    assert not failures, "\n".join(failures)


def test_checkout_steps(live_server: LiveServer, site: Site, context: BrowserContext) -> None:
    """The hosted checkout: the page, a refused seat count (htmx), a declined card, the
    confirmation, and the confirmation after inviting."""
    headers = {"Authorization": f"Bearer {live_server.new_key()}"}
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as api:
        opened = open_checkout(api)
    page = context.new_page()
    failures: list[str] = []
    page.goto(opened["url"])
    _audit(page, "checkout", failures)
    page.get_by_label("Number of seats").fill("0")
    expect(page.get_by_role("alert")).to_contain_text("must be at least 1")
    _audit(page, "checkout, refused seat count", failures)
    page.get_by_label("Number of seats").fill("4")
    expect(page.get_by_role("alert")).to_have_count(0)
    page.get_by_label("Test card that is declined").check()
    page.get_by_role("button", name="Pay now").click()
    expect(page.get_by_role("alert")).to_contain_text("Payment declined")
    _audit(page, "checkout, declined card", failures)
    page.get_by_label("Test card that is accepted").check()
    page.get_by_role("button", name="Pay now").click()
    page.wait_for_url(f"{live_server.base}/checkout/{opened['id']}/done")
    _audit(page, "checkout done", failures)
    page.get_by_label("Email addresses").fill("ann@acme.test, not an address")
    page.get_by_role("button", name="Send invitations").click()
    _audit(page, "checkout done, refused invitation", failures)
    page.get_by_label("Email addresses").fill("ann@acme.test, ben@acme.test")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_text("Invitations sent: 2.")).to_be_visible()
    _audit(page, "checkout done, invited", failures)
    assert not failures, "\n".join(failures)


def test_portal_pages(live_server: LiveServer, site: Site, context: BrowserContext) -> None:
    failures: list[str] = []
    page = _enter(context, live_server, site.manager_token)
    for name, path in site.portal.items():
        page.goto(f"{live_server.base}{path}")
        if name.endswith("preview"):  # the lines are on the page, not a refusal
            expect(page.locator("#preview-lines")).to_be_visible()
        _audit(page, name, failures)
    page.goto(f"{live_server.base}{site.portal['pool']}")
    page.get_by_label("Email addresses").fill("dee@acme.test, eve@acme.test, fay@acme.test")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("alert").first).to_be_visible()  # more than the free seats
    _audit(page, "pool, invited with one refused", failures)
    page.goto(f"{live_server.base}/portal/seat-alerts")
    _refuse_thresholds(page)
    _audit(page, "seat alerts, refused thresholds", failures)
    page.context.clear_cookies()
    page = _enter(context, live_server, site.member_token)
    page.goto(f"{live_server.base}/portal/manage")
    _audit(page, "manager home, seen by a plain member (403)", failures)
    page.context.clear_cookies()
    page = _enter(context, live_server, site.holder_token)
    page.goto(f"{live_server.base}/portal/seats")
    expect(page.locator("code.license-key")).to_be_visible()
    _audit(page, "holder's benefits", failures)
    assert not failures, "\n".join(failures)


def test_dashboard_pages(live_server: LiveServer, site: Site, context: BrowserContext) -> None:
    failures: list[str] = []
    page = context.new_page()
    page.goto(f"{live_server.base}/dashboard/login")
    page.get_by_label("Email").fill(site.login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.base}/dashboard")
    for name, path in site.dashboard.items():
        page.goto(f"{live_server.base}{path}")
        if name == "tier editor quote":
            page.get_by_label("Name", exact=True).fill("Graduated seats")
            page.get_by_label("Tiers mode").select_option("graduated")
            page.get_by_label("Tier 1 up to").fill("10")
            page.get_by_label("Tier 1 unit amount").fill("1000")
            page.get_by_role("button", name="Add a tier row").click()
            page.get_by_label("Tier 2 unit amount").fill("eight")
            page.get_by_label("Quote one seat count").fill("14")
            page.get_by_role("button", name="Create the product").click()
            expect(page.locator(".field-error")).to_be_visible()
        if name == "companies search refused":
            expect(page.locator(".field-error")).to_be_visible()
        if name == "company":
            _audit(page, name, failures)
            _refuse_thresholds(page)
            name = "company, refused seat alerts"
        _audit(page, name, failures)
    assert not failures, "\n".join(failures)
