"""Seat alerts in the billing manager's portal and the merchant's dashboard: each product's
thresholds beside its usage, set through the API's own service with the API's rule and error
codes, refusals shown beside the field; a plain member 403; and the API's `PUT` taking the
billing manager's session as the portal does. On both databases."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts
from tests.e2e.dashboard import Dashboard, new_user
from tests.e2e.portal import Shop, Visitor

pytestmark = pytest.mark.db

PAGE = "/portal/seat-alerts"


async def _team_plan(api: Api, acme: Shop) -> str:
    """The product of Acme's subscription (its order's product has the same name)."""
    subscription = await api.get(f"/v1/subscriptions/{acme.subscription_id}")
    products = await api.get("/v1/products?limit=100")
    (product,) = [
        p
        for p in products["data"]
        if subscription["price_id"] in [price["id"] for price in p["prices"]]
    ]
    return str(product["id"])


async def _alerts(api: Api, acme: Shop) -> list[dict[str, Any]]:
    answer = await api.get(f"/v1/companies/{acme.company['id']}/seat-alerts")
    data: list[dict[str, Any]] = answer["data"]
    return data


def _cell(html: str, product_id: str, what: str) -> str:
    """A product's "usage" or "state" as text."""
    found = re.search(rf'<dd id="thresholds-{product_id}-{what}">(.*?)</dd>', html, re.S)
    assert found is not None, html[:3000]
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def _field(html: str, product_id: str) -> str:
    found = re.search(rf'<input id="thresholds-{product_id}"[^>]*value="([^"]*)"', html, re.S)
    assert found is not None
    return unescape(found.group(1))


async def test_the_manager_sets_thresholds_and_sees_them_reached(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    product_id = await _team_plan(api, acme)
    html = (await manager.get(PAGE)).text
    assert _cell(html, product_id, "usage") == "0 of 5 (0%)"
    assert _cell(html, product_id, "state") == "None"
    assert html.count('<article class="seat-alerts"') == 2  # the subscription's and the order's
    done = await manager.post(f"{PAGE}/{product_id}", {"thresholds": "100, 80%"})
    assert (done.status_code, done.headers["location"]) == (303, PAGE)
    assert await _alerts(api, acme) == [{"product_id": product_id, "thresholds": [80, 100]}]
    html = (await manager.get(PAGE)).text
    assert "Seat alerts saved: 80%, 100%." in html
    assert _field(html, product_id) == "80, 100"
    for i in range(4):  # 4 of 5: 80%
        await api.assign({"subscription_id": acme.subscription_id}, f"p{i}@acme.test")
    html = (await manager.get(PAGE)).text
    assert _cell(html, product_id, "usage") == "4 of 5 (80%)"
    assert _cell(html, product_id, "state") == "80% (reached), 100%"
    await api.assign({"subscription_id": acme.subscription_id}, "p4@acme.test")
    html = (await manager.get(PAGE)).text
    assert _cell(html, product_id, "state") == "80% (reached), 100% (reached)"


async def test_the_percent_shown_is_rounded_down_as_thresholds_are_reached(
    api: Api, manager: Visitor, acme: Shop
) -> None:
    """2 of 3 is 66.67%: shown as 66%, and 67 is not reached (200 < 201)."""
    product_id = await _team_plan(api, acme)
    await api.call("PATCH", f"/v1/subscriptions/{acme.subscription_id}", 200, json={"seats": 3})
    await manager.post(f"{PAGE}/{product_id}", {"thresholds": "66, 67"})
    for i in range(2):
        await api.assign({"subscription_id": acme.subscription_id}, f"p{i}@acme.test")
    html = (await manager.get(PAGE)).text
    assert _cell(html, product_id, "usage") == "2 of 3 (66%)"
    assert _cell(html, product_id, "state") == "66% (reached), 67%"


async def test_an_empty_field_removes_them(api: Api, manager: Visitor, acme: Shop) -> None:
    product_id = await _team_plan(api, acme)
    await manager.post(f"{PAGE}/{product_id}", {"thresholds": "50"})
    done = await manager.post(f"{PAGE}/{product_id}", {"thresholds": " , "})
    assert done.status_code == 303
    assert await _alerts(api, acme) == []
    assert "Seat alerts removed." in (await manager.get(PAGE)).text


@pytest.mark.parametrize(
    ("typed", "field", "message", "as_json"),
    [
        ("0", "thresholds[0]", "Threshold 1 (0): an integer from 1 to 100.", [0]),
        ("80, 101", "thresholds[1]", "Threshold 2 (101): an integer from 1 to 100.", [80, 101]),
        ("80, 80", "thresholds", "Thresholds: thresholds must be distinct.", [80, 80]),
        ("10,20,30,40,50,60", "thresholds", "Thresholds: at most 5 thresholds.", [10] * 6),
        ("80, eighty", "thresholds[1]", "Threshold 2 (eighty): an integer from 1 to 100.", None),
        ("80.5", "thresholds[0]", "Threshold 1 (80.5): an integer from 1 to 100.", [80.5]),
        ("８０", "thresholds[0]", "Threshold 1 (８０): an integer from 1 to 100.", None),
        ("9" * 40, "thresholds[0]", f"Threshold 1 ({'9' * 40}): an integer from 1 to 100.", None),
    ],
)
async def test_bad_thresholds_are_refused_beside_the_field_as_the_api_refuses_them(
    api: Api,
    manager: Visitor,
    acme: Shop,
    typed: str,
    field: str,
    message: str,
    as_json: list[Any] | None,
) -> None:
    product_id = await _team_plan(api, acme)
    token = await manager.csrf(PAGE)
    before = await row_counts(api.runtime)
    answer = await manager.post(f"{PAGE}/{product_id}", {"thresholds": typed}, token=token)
    assert answer.status_code == 422
    error = re.search(
        rf'<small id="thresholds-{product_id}-error" class="field-error" role="alert"'
        r' data-field="([^"]+)" data-code="([^"]+)">([^<]+)</small>',
        answer.text,
    )
    assert error is not None, answer.text[:3000]
    assert (unescape(error.group(1)), error.group(2)) == (field, "validation_error")
    assert unescape(error.group(3)) == message
    assert _field(answer.text, product_id) == typed  # shown again as typed
    assert 'aria-invalid="true"' in answer.text
    assert await row_counts(api.runtime) == before
    if as_json is not None:  # the API names the same field with the same code
        path = f"/v1/companies/{acme.company['id']}/seat-alerts"
        body = {"product_id": product_id, "thresholds": as_json}
        refused = problem(await api.call("PUT", path, json=body), 422, "validation_error")
        assert field in [e["field"] for e in refused["errors"]]


async def test_an_unknown_product_is_a_404_page(api: Api, manager: Visitor, acme: Shop) -> None:
    before = await row_counts(api.runtime)
    for product_id in ("prod_00000000000000000000000000", "%00"):
        answer = await manager.post(f"{PAGE}/{product_id}", {"thresholds": "80"})
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
    assert await row_counts(api.runtime) == before


async def test_a_plain_member_gets_403_and_no_session_401(
    app: FastAPI, api: Api, acme: Shop
) -> None:
    product_id = await _team_plan(api, acme)
    member = Visitor(app, acme.member_token)
    nobody = Visitor(app, None)
    try:
        assert (await member.get(PAGE)).status_code == 403
        before = await row_counts(api.runtime)
        posted = await member.post(f"{PAGE}/{product_id}", {"thresholds": "80"})
        assert posted.status_code == 403
        assert "billing manager" in posted.text
        assert await row_counts(api.runtime) == before
        assert (await nobody.get(PAGE)).status_code == 401
    finally:
        await member.aclose()
        await nobody.aclose()


async def test_another_companys_manager_sets_only_their_own(
    app: FastAPI, api: Api, acme: Shop
) -> None:
    product_id = await _team_plan(api, acme)
    stranger = Visitor(app, acme.other_token)
    try:
        html = (await stranger.get(PAGE)).text
        assert "Globex" in html
        assert _cell(html, product_id, "usage") == "0 of 3 (0%)"  # Globex's own subscription
        assert (await stranger.post(f"{PAGE}/{product_id}", {"thresholds": "90"})).is_redirect
    finally:
        await stranger.aclose()
    assert await _alerts(api, acme) == []


async def test_the_apis_put_takes_the_billing_managers_session(api: Api, acme: Shop) -> None:
    product_id = await _team_plan(api, acme)
    path = f"/v1/companies/{acme.company['id']}/seat-alerts"
    body = {"product_id": product_id, "thresholds": [90]}
    answer = await api.call("PUT", path, 200, token=acme.manager_token, json=body)
    assert answer.json() == {"data": [{"product_id": product_id, "thresholds": [90]}]}
    problem(await api.call("PUT", path, token=acme.member_token, json=body), 403, "forbidden")
    problem(await api.call("PUT", path, token=acme.other_token, json=body), 404, "not_found")
    assert await _alerts(api, acme) == [{"product_id": product_id, "thresholds": [90]}]


@pytest.fixture
async def board(client: httpx.AsyncClient, runtime: Runtime) -> Dashboard:
    signed_in = Dashboard(client)
    await signed_in.login(await new_user(runtime))
    return signed_in


async def test_the_merchant_sets_them_on_the_company_page(
    api: Api, board: Dashboard, acme: Shop
) -> None:
    product_id = await _team_plan(api, acme)
    company_page = f"/dashboard/companies/{acme.company['id']}"
    html = (await board.get(company_page)).text
    assert 'id="seat-alerts-heading"' in html
    assert _cell(html, product_id, "state") == "None"
    action = f"{company_page}/seat-alerts/{product_id}"
    assert f'action="{action}"' in html
    done = await board.post(action, {"thresholds": "40, 60"})
    assert done.headers["location"] == f"{company_page}?alerts_saved=1"
    assert await _alerts(api, acme) == [{"product_id": product_id, "thresholds": [40, 60]}]
    for i in range(2):  # 2 of 5: 40%
        await api.assign({"subscription_id": acme.subscription_id}, f"p{i}@acme.test")
    html = (await board.get(done.headers["location"])).text
    assert "The seat alerts were saved." in html
    assert _cell(html, product_id, "usage") == "2 of 5 (40%)"
    assert _cell(html, product_id, "state") == "40% (reached), 60%"
    before = await row_counts(api.runtime)
    refused = await board.post(action, {"thresholds": "40, 0"}, expect=422)
    assert 'data-field="thresholds[1]" data-code="validation_error"' in refused.text
    assert "Threshold 2 (0): an integer from 1 to 100." in refused.text
    assert await row_counts(api.runtime) == before
    unknown = f"{company_page}/seat-alerts/prod_00000000000000000000000000"
    assert (await board.post(unknown, {"thresholds": "80"}, expect=404)).status_code == 404
