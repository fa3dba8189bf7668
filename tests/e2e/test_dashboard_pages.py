"""The dashboard's pages over HTTP, signed in (SPEC §11): the tier editor creates what the API
then returns and previews what the pricing package quotes; companies are found by member
email; the billing manager is handed over; a failed webhook delivery is retried; the sandbox
clock renews what falls due; the charts carry the numbers; bad input gets a page, never a
500, and GETs change nothing."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from seatledger.domain.clock import FixedClock
from seatledger.pricing import SeatPrice
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, row_counts
from tests.e2e.dashboard import Dashboard, new_user
from tests.e2e.webhooks import Answer, dispatch_undelivered, emit, receiver

GRADUATED: list[tuple[str, str]] = [
    ("name", "Team seats"),
    ("description", "Seats for the whole team"),
    ("currency", "usd"),
    ("interval", "month"),
    ("tiers_mode", "graduated"),
    ("base_amount", "0"),
    ("included_seats", "0"),
    ("minimum_seats", "1"),
    ("maximum_seats", ""),
    ("seat_sync", "manual"),
    ("up_to", "10"),
    ("unit_amount", "1000"),
    ("flat_amount", "0"),
    ("up_to", ""),
    ("unit_amount", "800"),
    ("flat_amount", "0"),
    ("preview_seats", "20"),
    ("quote_seats", "14"),
]


@pytest.fixture
async def board(client: httpx.AsyncClient, runtime: Runtime) -> Dashboard:
    signed_in = Dashboard(client)
    await signed_in.login(await new_user(runtime))
    return signed_in


def _with(form: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    return [(name, changes.get(name, value)) for name, value in form]


def _table(page: str) -> dict[int, tuple[int, int]]:
    """The price table: seats → (volume, graduated), from the cells' data-amount."""
    rows = re.findall(
        r'<tr data-seats="(\d+)">.*?data-amount="(\d+)".*?data-amount="(\d+)"', page, re.S
    )
    return {int(n): (int(v), int(g)) for n, v, g in rows}


async def test_the_tier_editor_creates_what_the_api_returns(board: Dashboard, api: Api) -> None:
    await board.get("/dashboard/products/new")
    created = await board.post("/dashboard/products/new", [*GRADUATED, ("action", "create")])
    product_id = created.headers["location"].split("/")[-1].split("?")[0]
    product = await api.get(f"/v1/products/{product_id}")
    assert product["name"] == "Team seats"
    assert product["description"] == "Seats for the whole team"
    (price,) = product["prices"]
    assert {k: price[k] for k in ("currency", "interval", "tiers_mode", "base_amount")} == {
        "currency": "usd",
        "interval": "month",
        "tiers_mode": "graduated",
        "base_amount": 0,
    }
    assert price["tiers"] == [
        {"up_to": 10, "unit_amount": 1000, "flat_amount": 0},
        {"up_to": None, "unit_amount": 800, "flat_amount": 0},
    ]
    assert (price["minimum_seats"], price["maximum_seats"]) == (1, None)
    shown = await board.get(created.headers["location"])
    assert "Version 1" in shown.text
    assert "The product was created." in shown.text


async def test_the_price_table_is_the_pricing_packages_quotes(board: Dashboard) -> None:
    await board.get("/dashboard/products/new")
    page = await board.post("/dashboard/products/new", [*GRADUATED, ("action", "preview")], 200)
    price = SeatPrice.from_mapping(
        {
            "currency": "usd",
            "interval": "month",
            "tiers_mode": "graduated",
            "tiers": [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
        }
    )
    table = _table(page.text)
    assert sorted(table) == list(range(1, 21))
    for seats, (volume, graduated) in table.items():
        assert volume == replace(price, tiers_mode="volume").period_amount(seats)
        assert graduated == price.period_amount(seats)
    assert table[14] == (11200, 13200)  # SPEC §2's worked example
    assert "14 seats, graduated: $132.00" in page.text


async def test_tier_rows_are_added_and_removed_by_submit_buttons(board: Dashboard) -> None:
    await board.get("/dashboard/products/new")
    added = await board.post("/dashboard/products/new", [*GRADUATED, ("action", "add_row")], 200)
    assert added.text.count('name="up_to"') == 3
    assert "Remove tier 3" in added.text
    removed = await board.post(
        "/dashboard/products/new", [*GRADUATED, ("action", "remove_row:0")], 200
    )
    assert removed.text.count('name="up_to"') == 1
    assert 'value="800"' in removed.text
    assert 'value="1000"' not in removed.text


async def test_a_bad_price_is_shown_on_the_form_and_nothing_is_created(
    board: Dashboard, runtime: Runtime
) -> None:
    before = await row_counts(runtime)
    await board.get("/dashboard/products/new")
    for changes, field in (
        ({"unit_amount": "ten"}, "tiers[0].unit_amount"),
        ({"currency": "zzz"}, "currency"),
        ({"name": ""}, "name"),
        ({"up_to": "5"}, "tiers[1].up_to"),
    ):
        form = _with(GRADUATED, **changes)
        refused = await board.post("/dashboard/products/new", [*form, ("action", "create")], 422)
        assert 'aria-invalid="true"' in refused.text, field
        assert "text/html" in refused.headers["content-type"]
    assert await row_counts(runtime) == before


async def test_price_versions_are_added_and_archived(board: Dashboard, api: Api) -> None:
    product = await api.product()
    path = f"/dashboard/products/{product['id']}"
    page = await board.get(f"{path}/prices/new")
    assert 'value="1000"' in page.text  # starts from the latest version
    form = [(n, v) for n, v in GRADUATED if n not in ("name", "description")]
    await board.post(f"{path}/prices/new", [*form, ("action", "create")])
    first = product["prices"][0]["id"]
    await board.post(f"{path}/prices/{first}/archive")
    prices = (await api.get(f"/v1/products/{product['id']}"))["prices"]
    assert [(p["version"], p["archived_at"] is not None) for p in prices] == [
        (1, True),
        (2, False),
    ]
    assert prices[1]["tiers_mode"] == "graduated"
    other = await api.product()
    await board.post(f"{path}/prices/{other['prices'][0]['id']}/archive", None, 404)


async def test_companies_are_found_by_member_email_name_and_external_id(
    board: Dashboard, api: Api
) -> None:
    acme = await api.company(external_id="crm-1")
    await api.company(email="boss@globex.test", name="Globex")
    await api.post(f"/v1/companies/{acme['id']}/members", {"email": "Ann@Acme.test"})
    for by, query in (("email", "ann@acme.test"), ("name", "acm"), ("external_id", "crm-1")):
        found = await board.get(f"/dashboard/companies?by={by}&q={query}")
        assert f"/dashboard/companies/{acme['id']}" in found.text, by
        assert "Globex" not in found.text, by
    bad = await board.get("/dashboard/companies?by=email&q=not-an-email")
    assert 'aria-invalid="true"' in bad.text
    page = await board.get(f"/dashboard/companies/{acme['id']}")
    assert "ann@acme.test" in page.text


async def test_the_billing_manager_is_handed_over(board: Dashboard, api: Api) -> None:
    subscription_id, company = await api.subscription()
    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test"})
    page = await board.get(f"/dashboard/companies/{company['id']}")
    assert subscription_id in page.text
    path = f"/dashboard/companies/{company['id']}/billing-manager"
    await board.post(path, {"member_id": member["id"]})
    after = await api.get(f"/v1/companies/{company['id']}")
    assert after["billing_manager_member_id"] == member["id"]
    refused = await board.post(path, {"member_id": "mem_nope"}, 422)
    assert "No such member" in refused.text


async def test_a_failed_delivery_is_retried_from_the_dashboard(
    board: Dashboard, api: Api, runtime: Runtime
) -> None:
    async with receiver() as hook:
        hook.script = [Answer(500)]
        endpoint = await api.post("/v1/webhook-endpoints", {"url": hook.url()})
        await emit(runtime, "seat.claimed")
        await dispatch_undelivered(runtime)
        from seatledger.services.webhook_deliveries import send_due

        await send_due(runtime)
        page = await board.get(f"/dashboard/webhooks/{endpoint['id']}")
        (delivery_id,) = re.findall(r'data-delivery="([^"]+)"', page.text)
        assert "Retry seat.claimed now" in page.text
        retried = await board.post(
            f"/dashboard/webhooks/{endpoint['id']}/deliveries/{delivery_id}/retry"
        )
        assert retried.headers["location"].endswith("retried=succeeded")
    deliveries = await api.get(f"/v1/webhook-endpoints/{endpoint['id']}/deliveries")
    assert [(d["status"], d["attempts"]) for d in deliveries["data"]] == [("succeeded", 2)]
    assert len(hook.received) == 2


async def test_the_sandbox_clock_renews_a_due_subscription(
    board: Dashboard, api: Api, runtime: Runtime
) -> None:
    subscription_id, _ = await api.subscription()
    before = await api.get(f"/v1/subscriptions/{subscription_id}")
    await board.get("/dashboard/clock")
    moved = await board.post("/dashboard/clock", {"days": "32"})
    assert moved.headers["location"] == "/dashboard/clock?renewed=1"
    assert "renewals run: 1" in (await board.get(moved.headers["location"])).text
    after = await api.get(f"/v1/subscriptions/{subscription_id}")
    assert after["current_period_start"] == before["current_period_end"]
    invoices = await api.get(f"/v1/invoices?subscription_id={subscription_id}")
    assert [i["reason"] for i in invoices["data"]] == ["subscription_create", "subscription_cycle"]
    refused = await board.post("/dashboard/clock", {"days": "-3"}, 422)
    assert 'aria-invalid="true"' in refused.text
    refused = await board.post("/dashboard/clock", {"days": "", "now": "2001-01-01T00:00"}, 422)
    assert "must not be before" in refused.text


def _dots(page: str, series: str) -> list[int]:
    block = re.search(rf'data-series="{series}">(.*?)</g>', page, re.S)
    assert block is not None, series
    return [int(v) for v in re.findall(r'data-value="(-?\d+)"', block.group(1))]


async def test_the_charts_carry_the_numbers(board: Dashboard, api: Api, clock: FixedClock) -> None:
    subscription_id, company = await api.subscription(seats=3)  # $30.00 a month
    yearly = await api.price(interval="year", tiers=[{"up_to": None, "unit_amount": 12000}])
    await api.buy(yearly, company["id"], seats=2)  # $240.00 a year: $20.00 a month
    await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    await api.assign({"subscription_id": subscription_id}, "bob@acme.test")
    clock.advance(timedelta(days=1))
    page = (await board.get("/dashboard")).text
    assert _dots(page, "bought")[-1] == 5
    assert _dots(page, "assigned")[-1] == 2
    assert _dots(page, "mrr")[-1] == 3000 + 2000
    assert _dots(page, "bought")[0] == 0  # a year ago
    bars = dict(re.findall(r'class="bar" data-label="([^"]+)" data-value="(\d+)"', page))
    assert bars == {"Team plan": "40"}  # 2 of 5 seats
    assert "never added together" in page


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/products/prod_00000000000000000000000000",
        "/dashboard/products/x%00y",
        "/dashboard/products/" + "9" * 300,
        "/dashboard/companies/co_00000000000000000000000000",
        "/dashboard/companies/%FF%FE",
        "/dashboard/invoices/inv_00000000000000000000000000/pdf",
        "/dashboard/webhooks/we_00000000000000000000000000",
        "/dashboard/products/prod_x/prices/new",
    ],
)
async def test_unknown_and_malformed_ids_are_not_found_pages(board: Dashboard, path: str) -> None:
    answer = await board.get(path, 404)
    assert "text/html" in answer.headers["content-type"]


async def test_malformed_input_never_answers_500(board: Dashboard, runtime: Runtime) -> None:
    odd: list[dict[str, Any]] = [
        {"action": "create", "name": "\x00", "currency": "usd", "interval": "month"},
        {"action": "create", "name": "X" * 20000, "unit_amount": "9" * 40},
        {"action": "create", "name": "Y", "interval": "week", "tiers_mode": "steps"},
        {"action": "remove_row:999"},
        {"action": "remove_row:x", "preview_seats": "-5", "quote_seats": "1e9"},
        {"action": "preview", "preview_seats": "100000", "up_to": "", "unit_amount": "-1"},
    ]
    await board.get("/dashboard/products/new")
    for form in odd:
        answer = await board.post("/dashboard/products/new", form, None)
        assert answer.status_code in (200, 422), (form, answer.status_code)
    for query in ("?by=email&q=%00", "?by=nope&q=x", "?cursor=" + "z" * 500, "?q=" + "a" * 999):
        await board.get(f"/dashboard/companies{query}")
    for query in ("?cursor=%FF", "?cursor=" + "z" * 100):
        await board.get(f"/dashboard/invoices{query}")
        await board.get(f"/dashboard/events{query}")
    await board.post("/dashboard/clock", {"days": "x" * 50}, 422)
    await board.post("/dashboard/clock", {"now": "31/31/2031"}, 422)


async def test_gets_change_nothing(board: Dashboard, api: Api, runtime: Runtime) -> None:
    subscription_id, company = await api.subscription()
    await board.get("/dashboard")  # the session's last use is written on sign-in
    before = await row_counts(runtime)
    for path in (
        "/dashboard",
        "/dashboard/products",
        "/dashboard/products/new",
        f"/dashboard/companies/{company['id']}",
        "/dashboard/companies?by=name&q=Acme",
        "/dashboard/subscriptions",
        "/dashboard/orders",
        "/dashboard/invoices",
        "/dashboard/emails",
        "/dashboard/events",
        "/dashboard/webhooks",
        "/dashboard/clock",
    ):
        await board.get(path)
    assert await row_counts(runtime) == before
    assert subscription_id in (await board.get("/dashboard/subscriptions")).text


async def test_an_invoice_pdf_from_the_dashboard(board: Dashboard, api: Api) -> None:
    subscription_id, company = await api.subscription()
    invoices = await api.get(f"/v1/invoices?subscription_id={subscription_id}")
    (invoice,) = invoices["data"]
    listed = await board.get("/dashboard/invoices")
    assert f"PDF of {invoice['number']}" in listed.text
    pdf = await board.get(f"/dashboard/invoices/{invoice['id']}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert f"(Invoice {invoice['number']})".encode() in pdf.content
    page = await board.get(f"/dashboard/companies/{company['id']}")
    assert f"/dashboard/invoices/{invoice['id']}/pdf" in page.text
