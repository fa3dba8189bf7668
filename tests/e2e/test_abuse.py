"""Hostile input through HTTP: each is a 4xx problem document naming what is wrong, and changes
nothing (SPEC §6: no input, however malformed, produces a 500)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from types import ModuleType
from typing import Any

import httpx
from fastapi import APIRouter
from sqlalchemy import update

import seatledger.api
from seatledger.adapters.db import tables as t
from seatledger.api.app import create_app
from seatledger.api.json_body import JsonRoute
from seatledger.domain.events import EVENT_TYPES
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts


def fields_of(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


async def send(api: Api, method: str, path: str, body: Any) -> httpx.Response:
    """``body`` as JSON with every non-ASCII character escaped (lone surrogates included); a
    string is sent as it is."""
    content = (body if isinstance(body, str) else json.dumps(body)).encode()
    return await api.call(
        method, path, content=content, headers={"Content-Type": "application/json"}
    )


# -- webhook endpoints --------------------------------------------------------------------------


async def test_webhook_endpoints_take_only_the_event_catalogue(api: Api, runtime: Runtime) -> None:
    every = await api.post(
        "/v1/webhook-endpoints",
        {"url": "https://hooks.example.test/all", "event_types": sorted(EVENT_TYPES)},
    )
    assert sorted(every["event_types"]) == sorted(EVENT_TYPES)
    star = await api.post(
        "/v1/webhook-endpoints", {"url": "https://hooks.example.test/star", "event_types": ["*"]}
    )
    assert star["event_types"] == ["*"]
    counts = await row_counts(runtime)
    body = {
        "url": "https://hooks.example.test/x",
        "event_types": ["seat.claimed", "seat.exploded", "*", "invitation.email", "Seat.Claimed"],
    }
    response = await api.call("POST", "/v1/webhook-endpoints", json=body)
    problem(response, 422, "validation_error", "event_types[1]")
    assert fields_of(response) == ["event_types[1]", "event_types[3]", "event_types[4]"]
    assert await row_counts(runtime) == counts


async def test_webhook_endpoint_urls_must_be_http_or_https(api: Api, runtime: Runtime) -> None:
    counts = await row_counts(runtime)
    for url in [
        "ftp://hooks.example.test/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://hooks.example.test:70/",
        "ws://hooks.example.test/x",
        "//hooks.example.test/x",
        "hooks.example.test/x",
        "https://",
        "https:///path-only",
        "https://hooks.example.test:99999/x",
        "https://hooks.example.test/\x1b[31m",
        "https://" + "a" * 3000 + ".test/",
    ]:
        response = await api.call("POST", "/v1/webhook-endpoints", json={"url": url})
        problem(response, 422, "validation_error", "url")
    assert await row_counts(runtime) == counts


# -- text people read -----------------------------------------------------------------------------

HOSTILE_TEXT = [
    "Acme\u202eexe.pdf",  # right-to-left override: shows as "Acmefdp.exe"
    "Acme \u2066isolated\u2069",
    "\x1b[31mred\x1b[0m",  # ANSI escape
    "bell\x07",
    "nul\x00",
    "del\x7f",
    "c1\x9b31m",
    "zero\u200bwidth",
    "\ufeffbom",
    "soft\u00adhyphen",
    "tag\U000e0041",
    "line\u2028separator",
    "tab\there",
    "cr\rhere",
    "\ud800",
]
FRIENDLY_TEXT = ["Acme GmbH & Co. KG", "東京\u3000支社", "Équipe 👩\u200d💻", "می\u200cخواهم"]


async def test_names_refuse_control_and_formatting_characters(api: Api, runtime: Runtime) -> None:
    company = await api.company()
    price = {"currency": "usd", "interval": "month", "tiers": [{"up_to": None, "unit_amount": 1}]}
    manager = {"email": "boss@other.test"}
    targets: list[tuple[str, str, Any, str]] = [
        ("POST", "/v1/products", lambda v: {"name": v, "prices": [price]}, "name"),
        (
            "POST",
            "/v1/products",
            lambda v: {"name": "x", "description": v, "prices": [price]},
            "description",
        ),
        (
            "POST",
            "/v1/benefits",
            lambda v: {"type": "custom", "description": v, "properties": {"note": "n"}},
            "description",
        ),
        (
            "POST",
            "/v1/benefits",
            lambda v: {"type": "custom", "description": "x", "properties": {"note": v}},
            "properties.note",
        ),
        ("POST", "/v1/companies", lambda v: {"name": v, "billing_manager": manager}, "name"),
        (
            "POST",
            "/v1/companies",
            lambda v: {"name": "x", "external_id": v, "billing_manager": manager},
            "external_id",
        ),
        (
            "POST",
            "/v1/companies",
            lambda v: {"name": "x", "billing_manager": {**manager, "name": v}},
            "billing_manager.name",
        ),
        ("PATCH", f"/v1/companies/{company['id']}", lambda v: {"name": v}, "name"),
        (
            "POST",
            f"/v1/companies/{company['id']}/members",
            lambda v: {"email": "ann@acme.test", "name": v},
            "name",
        ),
        (
            "POST",
            f"/v1/companies/{company['id']}/members",
            lambda v: {"email": "ann@acme.test", "external_id": v},
            "external_id",
        ),
    ]
    counts = await row_counts(runtime)
    for method, path, body, field in targets:
        for value in HOSTILE_TEXT:
            response = await send(api, method, path, body(value))
            problem(response, 422, "validation_error", field)
        one_line = field not in ("description", "properties.note")
        response = await api.call(method, path, json=body("two\nlines"))
        if one_line:
            problem(response, 422, "validation_error", field)
        else:
            assert response.status_code == 201, response.text
    # Only the multi-line texts above were taken (two\nlines): a product, two benefits.
    after = await row_counts(runtime)
    assert (after["products"], after["benefits"]) == (counts["products"] + 1, 2)
    assert after["companies"] == counts["companies"]
    assert after["members"] == counts["members"]

    for i, value in enumerate(FRIENDLY_TEXT):
        created = await api.company(email=f"boss{i}@friendly.test", name=value)
        assert created["name"] == value
        product = await api.product({"name": value, "description": f"{value}\r\n{value}"})
        assert product["name"] == value


# -- free-form JSON -------------------------------------------------------------------------------


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


async def test_deep_or_large_free_form_json_is_refused_and_creates_nothing(
    api: Api, runtime: Runtime
) -> None:
    subscription_id, _ = await api.subscription(seats=3)
    counts = await row_counts(runtime)
    access = {"type": "access_grant", "description": "Access"}
    seat = {"subscription_id": subscription_id, "email": "ann@acme.test"}
    for path, body, field in [
        ("/v1/benefits", {**access, "properties": nested(900)}, "properties"),
        ("/v1/benefits", {**access, "properties": nested(33)}, "properties"),
        ("/v1/benefits", {**access, "properties": {"a": [[[[]]], nested(40)]}}, "properties"),
        ("/v1/benefits", {**access, "properties": {"k": "x" * 17_000}}, "properties"),
        (
            "/v1/benefits",
            '{"type": "access_grant", "description": "x", "properties": {"r": [1, 1e400]}}',
            "properties.r[1]",
        ),
        ("/v1/benefits", {**access, "properties": {"n": {"m": 2**64}}}, "properties.n.m"),
        ("/v1/benefits", {**access, "properties": {"s": "nul\x00"}}, "properties.s"),
        ("/v1/seats", {**seat, "metadata": nested(900)}, "metadata"),
        ("/v1/seats", {**seat, "metadata": {"team": "\ud800"}}, "metadata.team"),
    ]:
        response = await send(api, "POST", path, body)
        problem(response, 422, "validation_error", field)
    assert await row_counts(runtime) == counts
    fits = await api.post("/v1/benefits", {**access, "properties": nested(32)})
    assert fits["properties"] == nested(32)


async def test_a_claim_is_not_spent_on_stored_properties_it_cannot_answer(
    api: Api, runtime: Runtime
) -> None:
    """Properties stored before the bounds existed (or by hand) and too deep to answer stop the
    claim before it commits: the token still works, nothing is granted, no session opens."""
    benefit = await api.post(
        "/v1/benefits", {"type": "access_grant", "description": "Access", "properties": {}}
    )
    product = await api.product({"benefit_ids": [benefit["id"]]})
    company = await api.company()
    done = await api.buy(product["prices"][0]["id"], company["id"], 3)
    seat = await api.assign({"subscription_id": done["subscription_id"]}, "ann@acme.test")
    async with runtime.engine.begin() as connection:
        await connection.execute(
            update(t.benefits)
            .where(t.benefits.c.id == benefit["id"])
            .values(properties=nested(300))
        )
    token = seat["invitation"]["token"]
    counts = await row_counts(runtime)
    transport = httpx.ASGITransport(app=create_app(runtime), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        body = problem(await client.post(f"/v1/claims/{token}"), 500, "internal_error")
        assert "benefit" not in body["detail"]
        looked_up = await client.get(f"/v1/claims/{token}")
    assert looked_up.status_code == 200, looked_up.text
    assert looked_up.json()["seat"]["status"] == "pending"
    assert await row_counts(runtime) == counts


# -- numbers --------------------------------------------------------------------------------------

HUGE = "9" * 5000  # beyond CPython's int-str conversion limit (4,300 digits)


async def test_integers_too_long_to_read_name_their_field(api: Api, runtime: Runtime) -> None:
    subscription_id, company = await api.subscription(seats=3)
    price_id = await api.price()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    counts = await row_counts(runtime)
    tier = '{"currency": "usd", "interval": "month", "tiers": [{"up_to": null, "unit_amount": %s}]}'
    cases: list[tuple[str, str, str, str, str]] = [
        (
            "POST",
            "/v1/checkouts",
            f'{{"price_id": "{price_id}", "seats": {HUGE}}}',
            "seats_out_of_range",
            "seats",
        ),
        (
            "POST",
            "/v1/checkouts",
            f'{{"price_id": "{price_id}", "seats": -{HUGE}}}',
            "seats_out_of_range",
            "seats",
        ),
        (
            "PATCH",
            f"/v1/checkouts/{checkout['id']}",
            f'{{"seats": {HUGE}}}',
            "seats_out_of_range",
            "seats",
        ),
        (
            "PATCH",
            f"/v1/subscriptions/{subscription_id}",
            f'{{"seats": {HUGE}}}',
            "seats_out_of_range",
            "seats",
        ),
        (
            "POST",
            f"/v1/subscriptions/{subscription_id}/preview",
            f'{{"seats": {HUGE}}}',
            "seats_out_of_range",
            "seats",
        ),
        (
            "POST",
            "/v1/products",
            '{"name": "x", "prices": [%s]}' % (tier % HUGE),
            "validation_error",
            "prices[0].tiers[0].unit_amount",
        ),
        (
            "POST",
            f"/v1/products/{(await api.product())['id']}/prices",
            tier % f"-{HUGE}",
            "validation_error",
            "tiers[0].unit_amount",
        ),
        (
            "POST",
            "/v1/seats",
            f'{{"subscription_id": "{subscription_id}", "email": "a@b.test",'
            f' "metadata": {{"n": {HUGE}}}}}',
            "validation_error",
            "metadata.n",
        ),
        (
            "POST",
            "/v1/benefits",
            f'{{"type": "access_grant", "description": "x", "properties": {{"l": [1, {HUGE}]}}}}',
            "validation_error",
            "properties.l[1]",
        ),
        (
            "POST",
            f"/v1/subscriptions/{subscription_id}/cancel",
            f'{{"at_period_end": {HUGE}}}',
            "validation_error",
            "at_period_end",
        ),
    ]
    counts = await row_counts(runtime)
    for method, path, body, code, field in cases:
        response = await api.call(
            method, path, content=body.encode(), headers={"Content-Type": "application/json"}
        )
        problem(response, 422, code, field)
    assert await row_counts(runtime) == counts


def test_every_route_reads_json_by_the_api_rules() -> None:
    routers = [
        module.router
        for info in pkgutil.iter_modules(seatledger.api.__path__)
        if isinstance(module := importlib.import_module(f"seatledger.api.{info.name}"), ModuleType)
        and isinstance(getattr(module, "router", None), APIRouter)
    ]
    routes = [route for router in routers for route in router.routes]
    assert len(routers) >= 14
    assert len(routes) > 30
    assert all(isinstance(route, JsonRoute) for route in routes)


# -- a sweep --------------------------------------------------------------------------------------

HOSTILE_VALUES = [
    "[" * 900 + "]" * 900,
    '{"a":' * 900 + "{}" + "}" * 900,
    HUGE,
    "1e400",
    '"\\ud800"',
    '"\\u0000\\u202e\\u001b[31m"',
    '"' + "x" * 100_000 + '"',
]


async def test_hostile_values_in_every_field_answer_a_problem(api: Api, runtime: Runtime) -> None:
    """Each field of each body, in turn, holds each hostile value: never a 5xx."""
    subscription_id, company = await api.subscription(seats=3)
    price_id = await api.price()
    product = await api.product()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    seat = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "bo@acme.test"})
    price = {"currency": "usd", "interval": "month", "tiers": [{"up_to": None, "unit_amount": 1}]}
    bodies: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/v1/products", {"name": "P", "description": "d", "prices": [price]}),
        ("POST", f"/v1/products/{product['id']}/prices", price),
        ("POST", "/v1/benefits", {"type": "custom", "description": "d", "properties": {}}),
        ("POST", "/v1/companies", {"name": "C", "external_id": "e", "billing_manager": {}}),
        ("PATCH", f"/v1/companies/{company['id']}", {"name": "N", "billing_manager_member_id": ""}),
        (
            "POST",
            f"/v1/companies/{company['id']}/members",
            {"email": "", "name": "", "external_id": ""},
        ),
        ("POST", "/v1/customer-sessions", {"member_id": member["id"]}),
        (
            "POST",
            "/v1/checkouts",
            {"price_id": price_id, "seats": 2, "company_id": "", "customer_email": ""},
        ),
        ("PATCH", f"/v1/checkouts/{checkout['id']}", {"seats": 3}),
        ("POST", f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": ""}),
        (
            "PATCH",
            f"/v1/subscriptions/{subscription_id}",
            {"seats": 4, "price_id": "", "proration_behavior": ""},
        ),
        ("POST", f"/v1/subscriptions/{subscription_id}/preview", {"seats": 4, "price_id": ""}),
        ("POST", f"/v1/subscriptions/{subscription_id}/cancel", {"at_period_end": True}),
        ("POST", f"/v1/subscriptions/{subscription_id}/attach", {"company_id": ""}),
        (
            "POST",
            "/v1/seats",
            {
                "subscription_id": "",
                "order_id": "",
                "email": "",
                "member_id": "",
                "immediate_claim": False,
                "send_email": False,
                "metadata": {},
            },
        ),
        ("POST", f"/v1/seats/{seat['id']}/resend", {"send_email": False}),
        ("POST", "/v1/webhook-endpoints", {"url": "", "event_types": []}),
        ("POST", "/v1/sandbox/clock", {"now": ""}),
    ]
    counts = await row_counts(runtime)
    transport = httpx.ASGITransport(app=create_app(runtime), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        for method, path, base in bodies:
            for field in base:
                for value in HOSTILE_VALUES:
                    # A marker the JSON encoder writes as "\u0000", then swapped for the raw value.
                    content = json.dumps({**base, field: "\x00"}).replace('"\\u0000"', value)
                    response = await client.request(
                        method,
                        path,
                        content=content.encode(),
                        headers={**api.headers, "Content-Type": "application/json"},
                    )
                    assert response.status_code in (400, 404, 422), (path, field, value[:20])
                    problem(response, response.status_code, response.json()["code"])
    assert await row_counts(runtime) == counts
