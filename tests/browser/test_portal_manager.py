"""The billing manager's portal in a real browser: inviting several people at once, resending,
revoking after a confirmation, raising the seats after reading the API's preview, cancelling
and undoing; a plain member and another company's pool are refused; a forged post does
nothing.

The portal is entered with the session's cookie set on the browser context, as ``GET
/portal?session=…`` leaves it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from seatledger.web.templating import money
from tests.browser.conftest import LiveServer


@dataclass
class Acme:
    company_id: str
    subscription_id: str
    manager_token: str
    member_token: str
    other_subscription_id: str


def _post(api: httpx.Client, path: str, body: dict[str, Any], expect: int = 201) -> Any:
    answer = api.post(path, json=body)
    assert answer.status_code == expect, answer.text
    return answer.json()


def _buy(api: httpx.Client, price_id: str, company_id: str, seats: int) -> str:
    checkout = _post(
        api, "/v1/checkouts", {"price_id": price_id, "seats": seats, "company_id": company_id}
    )
    done = _post(
        api, f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
    )
    return str(done["subscription_id"])


def _session(api: httpx.Client, member_id: str) -> str:
    return str(_post(api, "/v1/customer-sessions", {"member_id": member_id})["token"])


@pytest.fixture
def api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The server's API with a new key (as the package's ``api``), the key made in a thread of
    its own: it is written with ``asyncio.run``, which cannot run on this thread once
    Playwright's loop runs here (the browser is shared by the session's tests)."""
    with ThreadPoolExecutor(1) as pool:
        key = pool.submit(live_server.new_key).result()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=live_server.base, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture
def acme(api: httpx.Client) -> Acme:
    """Acme with a 5-seat monthly subscription (members mode off), its manager and a member;
    Globex with a subscription of its own."""
    tiers = [{"up_to": 5, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}]
    price = {"currency": "usd", "interval": "month", "tiers": tiers}
    product = _post(api, "/v1/products", {"name": "Team plan", "prices": [price]})
    price_id = product["prices"][0]["id"]
    company = _post(
        api, "/v1/companies", {"name": "Acme", "billing_manager": {"email": "dana@acme.test"}}
    )
    member = _post(api, f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test"})
    other = _post(
        api, "/v1/companies", {"name": "Globex", "billing_manager": {"email": "g@globex.test"}}
    )
    return Acme(
        company_id=company["id"],
        subscription_id=_buy(api, price_id, company["id"], 5),
        manager_token=_session(api, company["billing_manager_member_id"]),
        member_token=_session(api, member["id"]),
        other_subscription_id=_buy(api, price_id, other["id"], 3),
    )


def enter(page: Page, live_server: LiveServer, token: str) -> None:
    page.context.add_cookies([{"name": "sl_portal", "value": token, "url": live_server.base}])


def _seat_row(page: Page, email: str) -> Any:
    return page.locator("tbody tr").filter(has=page.get_by_role("rowheader", name=email))


def test_invite_three_for_two_seats_then_two_then_resend_and_revoke(
    live_server: LiveServer, page: Page, api: httpx.Client, acme: Acme
) -> None:
    for name in ("ann", "bob", "cy"):
        _post(
            api,
            "/v1/seats",
            {"subscription_id": acme.subscription_id, "email": f"{name}@acme.test"},
        )
    enter(page, live_server, acme.manager_token)
    page.goto(f"{live_server.base}/portal/manage")
    page.get_by_role("link", name="Team plan (monthly)").click()
    page.get_by_label("Email addresses").fill("dee@acme.test, eve@acme.test\nfay@acme.test")
    page.get_by_role("button", name="Send invitations").click()
    # Three addresses for two free seats: nobody is invited, the list waits to be fixed.
    expect(page.locator("#emails-error")).to_contain_text("2 of 5 seats are free, for 3")
    expect(page.get_by_label("Email addresses")).to_have_value(
        "dee@acme.test, eve@acme.test\nfay@acme.test"
    )
    expect(page.locator("#seats-available")).to_have_text("2")
    page.get_by_label("Email addresses").fill("dee@acme.test, eve@acme.test")
    page.get_by_role("button", name="Send invitations").click()
    expect(page.get_by_role("status")).to_contain_text("Invited 2: dee@acme.test, eve@acme.test.")
    expect(page.locator("#seats-available")).to_have_text("0")
    listed = api.get(f"/v1/seats?subscription_id={acme.subscription_id}").json()
    assert sorted(s["email"] for s in listed["data"]) == [
        "ann@acme.test",
        "bob@acme.test",
        "cy@acme.test",
        "dee@acme.test",
        "eve@acme.test",
    ]

    _seat_row(page, "dee@acme.test").get_by_role("button", name="Resend invitation").click()
    expect(page.get_by_role("status")).to_contain_text("A new invitation was sent to dee@acme.test")

    _seat_row(page, "ann@acme.test").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke the seat of ann@acme.test?")).to_be_visible()
    assert (
        api.get(f"/v1/seats?subscription_id={acme.subscription_id}").json()["assigned_seats"] == 5
    )
    page.get_by_role("button", name="Revoke the seat").click()
    expect(page.get_by_role("status")).to_contain_text("The seat of ann@acme.test is revoked")
    expect(_seat_row(page, "ann@acme.test")).to_contain_text("Revoked")
    expect(page.locator("#seats-available")).to_have_text("1")


def _freeze_clock(api: httpx.Client) -> None:
    """The sandbox clock stands still a minute ahead, so the page's preview and the API's are
    made at the same instant."""
    now = datetime.fromisoformat(api.get("/v1/sandbox/clock").json()["now"].replace("Z", "+00:00"))
    ahead = (now.astimezone(UTC) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _post(api, "/v1/sandbox/clock", {"now": ahead}, 200)


def test_seats_from_5_to_8_after_the_apis_preview_then_cancel_and_undo(
    live_server: LiveServer, page: Page, api: httpx.Client, acme: Acme
) -> None:
    _freeze_clock(api)
    preview = _post(api, f"/v1/subscriptions/{acme.subscription_id}/preview", {"seats": 8}, 200)
    enter(page, live_server, acme.manager_token)
    page.goto(f"{live_server.base}/portal/subscriptions/{acme.subscription_id}")
    page.get_by_label("New seat count").fill("8")
    # htmx shows the lines as the count is typed; the page without script has the button.
    expect(page.locator("#live-preview tbody tr")).to_have_count(len(preview["lines"]))
    page.get_by_role("button", name="Preview the change").click()
    rows = page.locator("#preview-lines tbody tr")
    expect(rows).to_have_count(len(preview["lines"]))
    for index, line in enumerate(preview["lines"]):
        cells = rows.nth(index).locator("td").all_inner_texts()
        assert cells == [
            line["description"],
            str(line["quantity"]),
            money(line["unit_amount"], "usd"),
            money(line["amount"], "usd"),
        ]
    due = money(preview["amount_due_now"], "usd")
    expect(page.locator("#due-now")).to_contain_text(f"Due now: {due}")
    page.get_by_role("button", name=f"Confirm the change and pay {due}").click()
    expect(page.locator("#seats-bought")).to_have_text("8")
    invoices = api.get(f"/v1/invoices?subscription_id={acme.subscription_id}").json()["data"]
    assert [invoice["total"] for invoice in invoices] == [5000, preview["amount_due_now"]]
    expect(page.get_by_role("link", name=invoices[1]["number"])).to_be_visible()

    page.get_by_role("link", name="Cancel at the end of the period").click()
    page.get_by_role("button", name="Cancel at the end of the period").click()
    expect(page.get_by_role("status")).to_contain_text("The subscription ends on")
    assert api.get(f"/v1/subscriptions/{acme.subscription_id}").json()["cancel_at_period_end"]
    page.get_by_role("button", name="Keep the subscription (undo the cancellation)").click()
    expect(page.get_by_role("status")).to_contain_text("The cancellation is undone")
    assert not api.get(f"/v1/subscriptions/{acme.subscription_id}").json()["cancel_at_period_end"]


def test_a_plain_member_and_another_companys_pool_are_refused(
    live_server: LiveServer, page: Page, acme: Acme
) -> None:
    enter(page, live_server, acme.member_token)
    answer = page.goto(f"{live_server.base}/portal/manage")
    assert answer is not None
    assert answer.status == 403
    expect(
        page.get_by_role("heading", name="Only the billing manager may see this")
    ).to_be_visible()
    page.context.clear_cookies()
    enter(page, live_server, acme.manager_token)
    answer = page.goto(f"{live_server.base}/portal/subscriptions/{acme.other_subscription_id}")
    assert answer is not None
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_a_post_without_the_csrf_token_changes_nothing(
    live_server: LiveServer, page: Page, api: httpx.Client, acme: Acme
) -> None:
    enter(page, live_server, acme.manager_token)
    page.goto(f"{live_server.base}/portal/subscriptions/{acme.subscription_id}")
    path = f"{live_server.base}/portal/subscriptions/{acme.subscription_id}"
    for action, form in [
        ("invite", {"emails": "mallory@evil.test"}),
        ("change", {"seats": "9"}),
        ("cancel", {"when": "now"}),
    ]:
        answer = page.request.post(f"{path}/{action}", form=form)
        assert answer.status == 403, action
    after = api.get(f"/v1/subscriptions/{acme.subscription_id}").json()
    assert (after["seats"], after["status"], after["assigned_seats"]) == (5, "active", 0)


def test_every_step_works_without_javascript(
    live_server: LiveServer, browser: Browser, api: httpx.Client, acme: Acme
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        enter(page, live_server, acme.manager_token)
        page.goto(f"{live_server.base}/portal/subscriptions/{acme.subscription_id}")
        page.get_by_label("Email addresses").fill("gus@acme.test")
        page.get_by_role("button", name="Send invitations").click()
        expect(page.get_by_role("status")).to_contain_text("Invited 1: gus@acme.test.")
        page.get_by_label("New seat count").fill("6")
        page.get_by_role("button", name="Preview the change").click()
        expect(page.locator("#preview-lines tbody tr")).to_have_count(1)
        page.get_by_role("button", name="Confirm the change").click()
        expect(page.locator("#seats-bought")).to_have_text("6")
        _seat_row(page, "gus@acme.test").get_by_role("button", name="Revoke").click()
        page.get_by_role("button", name="Revoke the seat").click()
        expect(_seat_row(page, "gus@acme.test")).to_contain_text("Revoked")
    finally:
        context.close()
    assert api.get(f"/v1/subscriptions/{acme.subscription_id}").json()["seats"] == 6
