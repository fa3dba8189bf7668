"""Changing a subscription from the manager's portal: the preview is the API's, confirming
applies it (or says the card was declined), cancel and undo, buying more seats of an order,
and the invoice pages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi import FastAPI

from seatledger.web.templating import money
from tests.e2e.api import Api, row_counts
from tests.e2e.portal import Shop, Visitor, shop


def preview_rows(html: str) -> list[list[str]]:
    """The preview table's body as text cells."""
    body = html.split('<table id="preview-lines">', 1)[1].split("<tbody>", 1)[1]
    body = body.split("</tbody>", 1)[0]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def expected_rows(preview: dict[str, object]) -> list[list[str]]:
    currency = str(preview["currency"])
    lines = preview["lines"]
    assert isinstance(lines, list)
    return [
        [
            line["description"],
            str(line["quantity"]),
            money(line["unit_amount"], currency),
            money(line["amount"], currency),
        ]
        for line in lines
    ]


async def test_the_seat_change_preview_is_the_apis_and_confirming_applies_it(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/subscriptions/{acme.subscription_id}"
    api_preview = await api.post(
        f"/v1/subscriptions/{acme.subscription_id}/preview", {"seats": 8}, 200
    )
    before = await row_counts(api.runtime)
    page = await manager.get(f"{path}/change?seats=8")
    assert page.status_code == 200
    assert await row_counts(api.runtime) == before  # previewing changes nothing
    assert preview_rows(page.text) == expected_rows(api_preview)
    assert f"Due now: {money(api_preview['amount_due_now'], 'usd')}" in unescape(page.text)
    done = await manager.post(f"{path}/change", {"seats": "8", "price_id": ""})
    assert done.status_code == 303
    assert (await api.get(f"/v1/subscriptions/{acme.subscription_id}"))["seats"] == 8
    html = (await manager.get(done.headers["location"])).text
    assert '<dd id="seats-bought">8</dd>' in html
    assert "INV-000004" in html  # the change's invoice, after the three purchases
    invoices = await api.get(f"/v1/invoices?subscription_id={acme.subscription_id}")
    assert [invoice["total"] for invoice in invoices["data"]] == [
        5000,
        api_preview["amount_due_now"],
    ]


async def test_the_annual_switch_shows_its_credit_and_charge_lines(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/subscriptions/{acme.subscription_id}"
    pool = (await manager.get(path)).text
    assert f'<option value="{acme.yearly_price_id}">Team plan, yearly</option>' in pool
    api_preview = await api.post(
        f"/v1/subscriptions/{acme.subscription_id}/preview",
        {"price_id": acme.yearly_price_id},
        200,
    )
    page = await manager.get(f"{path}/change?price_id={acme.yearly_price_id}")
    assert preview_rows(page.text) == expected_rows(api_preview)
    assert len(api_preview["lines"]) >= 2  # the unused month's credit and the new year
    done = await manager.post(f"{path}/change", {"seats": "", "price_id": acme.yearly_price_id})
    assert done.status_code == 303
    after = await api.get(f"/v1/subscriptions/{acme.subscription_id}")
    assert after["price_id"] == acme.yearly_price_id


async def test_a_declined_card_is_said_plainly_and_changes_nothing(app: FastAPI, api: Api) -> None:
    acme = await shop(api, method="pm_card_fail_after_first")
    visitor = Visitor(app, acme.manager_token)
    try:
        path = f"/portal/subscriptions/{acme.subscription_id}"
        before = await row_counts(api.runtime)
        refused = await visitor.post(f"{path}/change", {"seats": "8"})
        assert refused.status_code == 402
        assert "The payment was declined" in refused.text
        assert "Nothing was changed." in refused.text
        assert '<table id="preview-lines">' in refused.text  # the preview still stands
        assert (await api.get(f"/v1/subscriptions/{acme.subscription_id}"))["seats"] == 5
        after = await row_counts(api.runtime)
        assert after["invoices"] == before["invoices"]
        assert after["subscriptions"] == before["subscriptions"]
    finally:
        await visitor.aclose()


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ("seats=0", "seats", 422),
        ("seats=abc", "seats", 422),
        ("seats=-3", "seats", 422),
        ("seats=1e3", "seats", 422),
        ("seats=" + "9" * 40, "seats", 422),
        ("seats=%EF%BC%98", "seats", 422),  # a full-width digit
        ("seats=", "seats", 422),
        ("price_id=nope", "price_id", 404),
        ("price_id=price_00000000000000000000000000", "price_id", 404),
        ("seats=8&seats=9", "seats", 200),
    ],
)
async def test_a_bad_change_is_shown_on_the_pool_page(
    api: Api, manager: Visitor, acme: Shop, query: str, field: str, status: int
) -> None:
    page = await manager.get(f"/portal/subscriptions/{acme.subscription_id}/change?{query}")
    assert page.status_code == status, page.text
    assert page.headers["content-type"].startswith("text/html")
    if status != 200:
        assert f'id="{field}" ' in page.text
        assert f'aria-describedby="{field}-error"' in page.text


async def test_seats_below_the_assigned_ones_are_refused_with_the_reason(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    for name in ("ann", "bob", "cy"):
        await api.assign({"subscription_id": acme.subscription_id}, f"{name}@acme.test")
    path = f"/portal/subscriptions/{acme.subscription_id}"
    page = await manager.get(f"{path}/change?seats=2")
    assert page.status_code == 409
    assert "revoke seats first" in page.text.lower()
    posted = await manager.post(f"{path}/change", {"seats": "2"})
    assert posted.status_code == 409
    assert (await api.get(f"/v1/subscriptions/{acme.subscription_id}"))["seats"] == 5


async def test_cancel_at_period_end_then_undo_then_cancel_now(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/subscriptions/{acme.subscription_id}"
    api_path = f"/v1/subscriptions/{acme.subscription_id}"
    confirm = await manager.get(f"{path}/cancel?when=period_end")
    assert "Cancel at the end of the period" in confirm.text
    assert (await api.get(api_path))["cancel_at_period_end"] is False
    done = await manager.post(f"{path}/cancel", {"when": "period_end"})
    assert done.status_code == 303
    assert (await api.get(api_path))["cancel_at_period_end"] is True
    html = (await manager.get(path)).text
    assert "undo the cancellation" in html
    assert "Preview the change" not in html  # no changes while cancelling
    undone = await manager.post(f"{path}/resume")
    assert undone.status_code == 303
    assert (await api.get(api_path))["cancel_at_period_end"] is False
    seat = await api.assign({"subscription_id": acme.subscription_id}, "ann@acme.test")
    now = await manager.post(f"{path}/cancel", {"when": "now"})
    assert now.status_code == 303
    assert (await api.get(api_path))["status"] == "canceled"
    assert (await api.get(f"/v1/seats/{seat['id']}"))["status"] == "revoked"
    bad = await manager.post(f"{path}/cancel", {"when": "tomorrow"})
    assert bad.status_code == 422


async def test_buying_more_seats_opens_a_checkout_for_the_same_price(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/orders/{acme.order_id}"
    order = await api.get(f"/v1/orders/{acme.order_id}")
    done = await manager.post(f"{path}/buy", {"seats": "4"})
    assert done.status_code == 303
    checkout_id = done.headers["location"].removeprefix("/checkout/")
    checkout = await api.get(f"/v1/checkouts/{checkout_id}")
    assert (checkout["price_id"], checkout["seats"], checkout["status"]) == (
        order["price_id"],
        4,
        "open",
    )
    assert checkout["company_id"] == acme.company["id"]
    before = await row_counts(api.runtime)
    for typed in ("", "0", "two", "9" * 30):
        refused = await manager.post(f"{path}/buy", {"seats": typed})
        assert refused.status_code == 422, typed
        assert 'aria-describedby="buy_seats-error"' in refused.text
    assert await row_counts(api.runtime) == before


async def test_the_invoice_page_shows_every_part_of_the_invoice(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    invoices = await api.get(f"/v1/invoices?subscription_id={acme.subscription_id}")
    invoice = invoices["data"][0]
    page = await manager.get(f"/portal/invoices/{invoice['id']}")
    assert page.status_code == 200
    html = unescape(page.text)
    assert f"Invoice {invoice['number']}" in html
    assert "Acme" in html
    assert "boss@acme.test" in html
    for line in invoice["lines"]:
        assert line["description"] in html
        assert money(line["unit_amount"], "usd") in html
    assert "Subtotal" in html
    assert "Credit applied" in html
    assert "Total" in html
    assert "Paid" in html
    assert f"/portal/invoices/{invoice['id']}/pdf" in html
    listed = await manager.get("/portal/invoices")
    assert invoice["number"] in listed.text
    assert "INV-000003" not in listed.text  # the other company's purchase


async def test_a_change_from_the_next_period_bills_nothing_now(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    path = f"/portal/subscriptions/{acme.subscription_id}"
    page = await manager.get(f"{path}/change?seats=3&proration_behavior=next_period")
    assert page.status_code == 200
    assert "Takes effect" in page.text
    assert "Due now: $0.00" in page.text
    before = await row_counts(api.runtime)
    done = await manager.post(
        f"{path}/change", {"seats": "3", "price_id": "", "proration_behavior": "next_period"}
    )
    assert done.status_code == 303
    after = await api.get(f"/v1/subscriptions/{acme.subscription_id}")
    assert after["seats"] == 5
    assert after["pending_change"]["seats"] == 3
    assert (await row_counts(api.runtime))["invoices"] == before["invoices"]
    assert (
        "Scheduled: 3 seats from the next period."
        in (await manager.get(done.headers["location"])).text
    )
    refused = await manager.get(f"{path}/change?seats=6&proration_behavior=later")
    assert refused.status_code == 422
    assert 'aria-describedby="proration_behavior-error"' in refused.text


async def test_a_past_due_subscription_says_so_with_the_next_attempt(
    app: FastAPI, api: Api
) -> None:
    acme = await shop(api, method="pm_card_fail_after_first")
    await api.post("/v1/sandbox/clock", {"now": "2027-02-01T00:00:00Z"}, 200)
    assert (await api.get(f"/v1/subscriptions/{acme.subscription_id}"))["status"] == "past_due"
    # A new session: the first expired while the clock moved.
    token = await api.session(acme.company["billing_manager_member_id"])
    visitor = Visitor(app, token)
    try:
        html = (await visitor.get(f"/portal/subscriptions/{acme.subscription_id}")).text
        home = (await visitor.get("/portal/manage")).text
    finally:
        await visitor.aclose()
    assert "A renewal payment failed. It is tried again on Feb 2, 2027." in html
    assert "Past due" in html
    assert "Past due" in home
    assert "Open" in html  # the renewal's invoice, unpaid


async def test_the_credit_balance_is_shown_per_currency(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    # A decrease waits as a credit line; cancelling now settles it into the balance.
    path = f"/portal/subscriptions/{acme.subscription_id}"
    assert (await manager.post(f"{path}/change", {"seats": "3"})).status_code == 303
    assert (await manager.post(f"{path}/cancel", {"when": "now"})).status_code == 303
    balance = await api.get(f"/v1/companies/{acme.company['id']}/balance")
    [usd] = balance["data"]
    assert usd["amount"] > 0
    html = unescape((await manager.get("/portal/manage")).text)
    assert f"{money(usd['amount'], 'usd')}</span> (USD)" in html
