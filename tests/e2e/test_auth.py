"""Who may call what (SPEC §6): API keys, read-only keys, customer sessions of a billing manager
and of a plain member, and other companies' objects."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from seatledger.domain.clock import FixedClock
from seatledger.domain.ids import new_id
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, bearer, problem


def _operations(app: FastAPI) -> list[tuple[str, str, bool]]:
    """(method, path with made-up ids, secured) of every documented operation."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            concrete = path
            for name in ("product_id", "price_id", "benefit_id", "file_id", "company_id"):
                concrete = concrete.replace("{" + name + "}", new_id(name.split("_")[0][:5]))
            for name in ("member_id", "checkout_id", "subscription_id", "order_id", "seat_id"):
                concrete = concrete.replace("{" + name + "}", new_id(name.split("_")[0][:5]))
            concrete = concrete.replace("{invoice_id}", new_id("inv")).replace("{token}", "t")
            found.append((method.upper(), concrete, bool(operation.get("security"))))
    return found


async def test_every_route_but_the_public_ones_needs_a_credential(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    operations = _operations(app)
    public = {
        path.split("/")[2]
        if path.startswith("/v1/")
        else ("/checkout/{id}/stripe" if path.startswith("/checkout/") else path)
        for _, path, secured in operations
        if not secured
    }
    # Claims, the signed download link, the probes, and Stripe's ways in: its webhooks (signed)
    # and the checkout page's way on to Stripe's hosted page.
    assert public == {"claims", "files", "stripe", "/checkout/{id}/stripe", "/healthz", "/readyz"}
    key, plain = await api_keys.create_api_key(runtime, name="to revoke")
    await api_keys.revoke_api_key(runtime, key.id)
    for method, path, secured in operations:
        if not secured:
            continue
        for headers in ({}, bearer("sl_unknown"), bearer(plain), {"Authorization": "Basic eA=="}):
            response = await client.request(method, path, headers=headers)
            body = problem(response, 401, "unauthenticated")
            assert body["detail"]
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_revoked_key_stops_at_once(api: Api, runtime: Runtime) -> None:
    key, plain = await api_keys.create_api_key(runtime, name="short-lived")
    await api.get("/v1/products", token=plain)  # and now it is cached
    await api_keys.revoke_api_key(runtime, key.id)
    problem(await api.call("GET", "/v1/products", token=plain), 401, "unauthenticated")


async def test_a_key_revoked_elsewhere_stops_within_the_ttl(api: Api, runtime: Runtime) -> None:
    key, plain = await api_keys.create_api_key(runtime, name="revoked elsewhere")
    await api.get("/v1/products", token=plain)  # and now it is cached
    # Another process (the CLI, another server) has a cache of its own.
    elsewhere = replace(runtime, api_keys=type(runtime.api_keys)(maxsize=1, ttl=1))
    await api_keys.revoke_api_key(elsewhere, key.id)
    await api.get("/v1/products", token=plain)  # trusted here for at most CACHE_TTL
    runtime.api_keys.expire(time.monotonic() + api_keys.CACHE_TTL)
    problem(await api.call("GET", "/v1/products", token=plain), 401, "unauthenticated")


async def test_the_key_cache_is_bounded(runtime: Runtime) -> None:
    assert runtime.api_keys.maxsize == api_keys.CACHE_SIZE
    assert runtime.api_keys.ttl == api_keys.CACHE_TTL


async def test_a_read_only_key_reads_but_never_writes(
    app: FastAPI, api: Api, runtime: Runtime
) -> None:
    _, reader = await api_keys.create_api_key(runtime, name="reader", scopes=("read",))
    product = await api.product()
    assert (await api.get(f"/v1/products/{product['id']}", token=reader))["id"] == product["id"]
    before = await api.get("/v1/products")
    for method, path, secured in _operations(app):
        if not secured or method == "GET" or path.endswith("/preview"):
            continue
        problem(await api.call(method, path, token=reader, json={}), 403, "forbidden")
    assert await api.get("/v1/products") == before
    # A preview changes nothing, so it is a read: the missing subscription is what answers.
    preview = await api.call(
        "POST", f"/v1/subscriptions/{new_id('sub')}/preview", token=reader, json={}
    )
    problem(preview, 404, "not_found")


@pytest.fixture
async def world(api: Api) -> dict[str, Any]:
    """Two companies with a subscription each; Acme's manager and a claimed member, with their
    sessions."""
    price_id = await api.price()
    acme = await api.company("boss@acme.test", "Acme")
    globex = await api.company("boss@globex.test", "Globex")
    acme_sub = (await api.buy(price_id, acme["id"], 3))["subscription_id"]
    globex_sub = (await api.buy(price_id, globex["id"], 3))["subscription_id"]
    globex_seat = await api.assign({"subscription_id": globex_sub}, "gil@globex.test")
    ann_seat = await api.assign({"subscription_id": acme_sub}, "ann@acme.test")
    claimed = (await api.client.post(f"/v1/claims/{ann_seat['invitation']['token']}")).json()
    bob_seat = await api.assign({"subscription_id": acme_sub}, "bob@acme.test")
    acme_invoice = (await api.get(f"/v1/invoices?company_id={acme['id']}"))["data"][0]
    globex_invoice = (await api.get(f"/v1/invoices?company_id={globex['id']}"))["data"][0]
    return {
        "price_id": price_id,
        "acme": acme,
        "globex": globex,
        "acme_sub": acme_sub,
        "globex_sub": globex_sub,
        "ann": claimed["seat"]["member_id"],
        "ann_seat": ann_seat["id"],
        "ann_token": claimed["session_token"],
        "bob_seat": bob_seat["id"],
        "globex_seat": globex_seat["id"],
        "manager": await api.session(acme["billing_manager_member_id"]),
        "acme_invoice": acme_invoice["id"],
        "globex_invoice": globex_invoice["id"],
        "globex_manager": globex["billing_manager_member_id"],
    }


async def test_the_billing_manager_reads_and_runs_their_company(
    api: Api, world: dict[str, Any]
) -> None:
    token, acme = world["manager"], world["acme"]
    assert (await api.get(f"/v1/companies/{acme['id']}", token=token))["name"] == "Acme"
    members = await api.get(f"/v1/companies/{acme['id']}/members", token=token)
    assert {m["email"] for m in members["data"]} == {"boss@acme.test", "ann@acme.test"}
    assert (await api.get(f"/v1/subscriptions/{world['acme_sub']}", token=token))["seats"] == 3
    listed = await api.get("/v1/subscriptions", token=token)  # company_id defaults to theirs
    assert [s["id"] for s in listed["data"]] == [world["acme_sub"]]
    seats = await api.get(f"/v1/seats?subscription_id={world['acme_sub']}", token=token)
    assert len(seats["data"]) == 2
    await api.get(f"/v1/invoices/{world['acme_invoice']}", token=token)
    assert len((await api.get("/v1/invoices", token=token))["data"]) == 1
    await api.get(f"/v1/companies/{acme['id']}/entitlements", token=token)
    await api.get(f"/v1/companies/{acme['id']}/balance", token=token)
    await api.get(f"/v1/members/{world['ann']}/entitlements", token=token)
    await api.get("/v1/orders", token=token)
    assert [c["id"] for c in (await api.get("/v1/companies", token=token))["data"]] == [acme["id"]]
    globex_email = "/v1/companies?email=boss@globex.test"
    assert (await api.get(globex_email, token=token))["data"] == []

    pool = {"subscription_id": world["acme_sub"]}
    carl = await api.post("/v1/seats", {**pool, "email": "carl@acme.test"}, token=token)
    await api.post(f"/v1/seats/{carl['id']}/resend", {"send_email": False}, 200, token=token)
    await api.call("DELETE", f"/v1/seats/{carl['id']}", 200, token=token)
    checkout = await api.post(
        "/v1/checkouts", {"price_id": world["price_id"], "seats": 2}, token=token
    )
    assert checkout["company_id"] == acme["id"]
    await api.checkout(world["price_id"], 1, company_id=world["globex"]["id"])  # the merchant's
    listed = (await api.get("/v1/checkouts", token=token))["data"]
    assert listed[0]["id"] == checkout["id"]  # newest first, then the fixture's own
    assert [c["company_id"] for c in listed] == [acme["id"], acme["id"]]
    await api.call("PATCH", f"/v1/checkouts/{checkout['id']}", 200, json={"seats": 4}, token=token)
    await api.post(
        f"/v1/checkouts/{checkout['id']}/confirm",
        {"payment_method": "pm_card_ok"},
        200,
        token=token,
    )
    changed = await api.call(
        "PATCH", f"/v1/subscriptions/{world['acme_sub']}", 200, json={"seats": 5}, token=token
    )
    assert changed.json()["seats"] == 5
    await api.post(f"/v1/subscriptions/{world['acme_sub']}/preview", {"seats": 6}, 200, token=token)
    await api.post(
        f"/v1/subscriptions/{world['acme_sub']}/cancel", {"at_period_end": True}, 200, token=token
    )


async def test_the_billing_manager_may_not_do_the_merchants_work(
    api: Api, world: dict[str, Any]
) -> None:
    token, acme = world["manager"], world["acme"]
    for method, path, body in [
        ("GET", "/v1/products", None),
        ("GET", "/v1/benefits", None),
        ("GET", "/v1/webhook-endpoints", None),
        ("POST", "/v1/products", {"name": "x", "prices": []}),
        ("POST", "/v1/companies", {"name": "x", "billing_manager": {"email": "x@x.test"}}),
        ("PATCH", f"/v1/companies/{acme['id']}", {"name": "Renamed"}),
        ("POST", f"/v1/companies/{acme['id']}/members", {"email": "new@acme.test"}),
        ("DELETE", f"/v1/companies/{acme['id']}/members/{world['ann']}", None),
        ("POST", "/v1/customer-sessions", {"member_id": world["ann"]}),
        ("POST", "/v1/webhook-endpoints", {"url": "https://example.test/hook"}),
        ("POST", f"/v1/subscriptions/{world['acme_sub']}/attach", {"company_id": acme["id"]}),
        ("GET", "/v1/sandbox/clock", None),
        (
            "POST",
            "/v1/checkouts",
            {"price_id": world["price_id"], "seats": 1, "customer_email": "a@b.test"},
        ),
    ]:
        problem(await api.call(method, path, token=token, json=body), 403, "forbidden")
    assert (await api.get(f"/v1/companies/{acme['id']}"))["name"] == "Acme"


async def test_another_companys_objects_are_not_found_for_a_session(
    api: Api, world: dict[str, Any]
) -> None:
    token, globex = world["manager"], world["globex"]
    for path in [
        f"/v1/companies/{globex['id']}",
        f"/v1/companies/{globex['id']}/members",
        f"/v1/companies/{globex['id']}/entitlements",
        f"/v1/companies/{globex['id']}/balance",
        f"/v1/subscriptions/{world['globex_sub']}",
        f"/v1/invoices/{world['globex_invoice']}",
        f"/v1/members/{world['globex_manager']}/entitlements",
    ]:
        problem(await api.call("GET", path, token=token), 404, "not_found")
    for path, field in [
        (f"/v1/subscriptions?company_id={globex['id']}", "company_id"),
        (f"/v1/orders?company_id={globex['id']}", "company_id"),
        (f"/v1/seats?subscription_id={world['globex_sub']}", "subscription_id"),
        (f"/v1/invoices?company_id={globex['id']}", "company_id"),
        (f"/v1/invoices?subscription_id={world['globex_sub']}", "subscription_id"),
    ]:
        problem(await api.call("GET", path, token=token), 404, "not_found", field)
    for method, path, body in [
        ("DELETE", f"/v1/seats/{world['globex_seat']}", None),
        ("POST", f"/v1/seats/{world['globex_seat']}/resend", None),
        ("PATCH", f"/v1/subscriptions/{world['globex_sub']}", {"seats": 1}),
        ("POST", f"/v1/subscriptions/{world['globex_sub']}/cancel", {"at_period_end": False}),
        ("POST", f"/v1/subscriptions/{world['globex_sub']}/preview", {"seats": 2}),
        ("POST", f"/v1/invoices/{world['globex_invoice']}/pay", {"payment_method": "pm_card_ok"}),
        ("PATCH", f"/v1/companies/{globex['id']}", {"name": "Mine"}),
        ("POST", f"/v1/companies/{globex['id']}/members", {"email": "spy@acme.test"}),
    ]:
        problem(await api.call(method, path, token=token, json=body), 404, "not_found")
    for body, field in [
        ({"subscription_id": world["globex_sub"], "email": "spy@acme.test"}, "subscription_id"),
    ]:
        problem(
            await api.call("POST", "/v1/seats", token=token, json=body), 404, "not_found", field
        )
    checkout = {"price_id": world["price_id"], "seats": 1, "company_id": globex["id"]}
    problem(
        await api.call("POST", "/v1/checkouts", token=token, json=checkout),
        404,
        "not_found",
        "company_id",
    )
    # Globex is untouched.
    sub = await api.get(f"/v1/subscriptions/{world['globex_sub']}")
    assert (sub["status"], sub["seats"], sub["assigned_seats"]) == ("active", 3, 1)


async def test_a_plain_member_reads_only_their_own_seats_and_entitlements(
    api: Api, world: dict[str, Any]
) -> None:
    token, acme = world["ann_token"], world["acme"]
    held = await api.get(f"/v1/members/{world['ann']}/entitlements", token=token)
    assert held["member_id"] == world["ann"]
    assert len(held["products"]) == 1
    own = await api.get(f"/v1/seats?subscription_id={world['acme_sub']}", token=token)
    assert [seat["id"] for seat in own["data"]] == [world["ann_seat"]]  # not Bob's
    assert (own["total_seats"], own["assigned_seats"]) == (3, 2)
    forbidden: list[tuple[str, str, Any]] = [
        ("GET", f"/v1/companies/{acme['id']}", None),
        ("GET", f"/v1/companies/{acme['id']}/members", None),
        ("GET", f"/v1/companies/{acme['id']}/entitlements", None),
        ("GET", f"/v1/companies/{acme['id']}/balance", None),
        ("GET", f"/v1/subscriptions/{world['acme_sub']}", None),
        ("GET", "/v1/subscriptions", None),
        ("GET", "/v1/orders", None),
        ("GET", "/v1/companies", None),
        ("GET", "/v1/checkouts", None),
        ("GET", "/v1/benefits", None),
        ("GET", "/v1/webhook-endpoints", None),
        ("GET", f"/v1/invoices/{world['acme_invoice']}", None),
        ("GET", "/v1/invoices", None),
        ("GET", f"/v1/members/{acme['billing_manager_member_id']}/entitlements", None),
        ("POST", "/v1/seats", {"subscription_id": world["acme_sub"], "email": "x@acme.test"}),
        ("DELETE", f"/v1/seats/{world['bob_seat']}", None),
        ("DELETE", f"/v1/seats/{world['ann_seat']}", None),
        ("POST", f"/v1/seats/{world['bob_seat']}/resend", None),
        ("POST", "/v1/checkouts", {"price_id": world["price_id"], "seats": 1}),
        ("PATCH", f"/v1/subscriptions/{world['acme_sub']}", {"seats": 9}),
        ("POST", f"/v1/subscriptions/{world['acme_sub']}/cancel", {"at_period_end": False}),
        ("POST", f"/v1/invoices/{world['acme_invoice']}/pay", {"payment_method": "pm_card_ok"}),
        ("GET", "/v1/products", None),
    ]
    for method, path, body in forbidden:
        problem(await api.call(method, path, token=token, json=body), 403, "forbidden")
    for method, path in [
        ("GET", f"/v1/subscriptions/{world['globex_sub']}"),
        ("DELETE", f"/v1/seats/{world['globex_seat']}"),
        ("GET", f"/v1/companies/{world['globex']['id']}"),
    ]:
        problem(await api.call(method, path, token=token), 404, "not_found")
    seats = await api.get(f"/v1/seats?subscription_id={world['acme_sub']}")
    assert {seat["status"] for seat in seats["data"]} == {"claimed", "pending"}


async def test_sessions_expire_and_die_with_their_member(
    api: Api, world: dict[str, Any], clock: FixedClock
) -> None:
    acme = world["acme"]
    bob = await api.post(f"/v1/companies/{acme['id']}/members", {"email": "dan@acme.test"})
    dan = await api.session(bob["id"])
    await api.get(f"/v1/members/{bob['id']}/entitlements", token=dan)
    await api.call("DELETE", f"/v1/companies/{acme['id']}/members/{bob['id']}", 204)
    problem(
        await api.call("GET", f"/v1/members/{bob['id']}/entitlements", token=dan),
        401,
        "unauthenticated",
    )
    clock.advance(timedelta(hours=24, seconds=1))
    problem(
        await api.call("GET", f"/v1/companies/{acme['id']}", token=world["manager"]),
        401,
        "unauthenticated",
    )


async def test_a_handover_moves_the_rights_at_once(api: Api, world: dict[str, Any]) -> None:
    acme = world["acme"]
    await api.call(
        "PATCH",
        f"/v1/companies/{acme['id']}",
        200,
        json={"billing_manager_member_id": world["ann"]},
    )
    assert (await api.get(f"/v1/companies/{acme['id']}", token=world["ann_token"]))["id"] == acme[
        "id"
    ]
    problem(
        await api.call("GET", f"/v1/companies/{acme['id']}", token=world["manager"]),
        403,
        "forbidden",
    )
