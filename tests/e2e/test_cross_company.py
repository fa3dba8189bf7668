"""Another company's objects are 404 to every session (SPEC §6): every route that takes an id
of a company's object — in its path, its query or its body — is called with each id of company
B by company A's billing manager and by one of A's plain members. The answer is 404 (or, on a
route a session may never call, the very answer an unknown id gets), and nothing of B is in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.e2e.api import ONE_TIME, Api

# Valid bodies, so that each call reaches the ownership check rather than the body's.
BODIES: dict[str, Any] = {
    "update_company": {"name": "Renamed"},
    "add_member": {"email": "new@acme.test"},
    "update_checkout": {"seats": 2},
    "confirm_checkout": {"payment_method": "pm_card_ok"},
    "change_subscription": {"seats": 4},
    "preview_subscription_change": {"seats": 4},
    "cancel_subscription": {"at_period_end": True},
    "pay_invoice": {"payment_method": "pm_card_ok"},
    "set_subscription_holders": {"emails": ["x@acme.test"]},
    "set_order_holders": {"emails": ["x@acme.test"]},
    "transfer_seat": {"email": "x@acme.test"},
}
PARAMETER_KIND = {
    "company_id": "company",
    "member_id": "member",
    "checkout_id": "checkout",
    "subscription_id": "subscription",
    "order_id": "order",
    "seat_id": "seat",
    "invoice_id": "invoice",
}
UNKNOWN = {
    "company": "com_00000000000000000000000000",
    "member": "mem_00000000000000000000000000",
    "checkout": "chk_00000000000000000000000000",
    "subscription": "sub_00000000000000000000000000",
    "order": "ord_00000000000000000000000000",
    "seat": "seat_00000000000000000000000000",
    "invoice": "inv_00000000000000000000000000",
}


@dataclass
class World:
    a: dict[str, str]  # company A's ids by kind
    b: dict[str, str]  # company B's ids by kind
    b_text: list[str]  # what may never appear in an answer to A
    sessions: dict[str, str]  # role → A's session token


async def _company(api: Api, name: str, domain: str) -> dict[str, str]:
    price_id = await api.price()
    company = await api.company(email=f"boss@{domain}", name=name)
    done = await api.buy(price_id, company["id"], 3)
    order_price = str((await api.product(**ONE_TIME))["prices"][0]["id"])
    order = await api.buy(order_price, company["id"], 2)
    pool = {"subscription_id": done["subscription_id"]}
    seat = await api.assign(pool, f"ann@{domain}", immediate_claim=True)
    pending = await api.assign(pool, f"bob@{domain}")
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    invoices = await api.get(f"/v1/invoices?company_id={company['id']}")
    return {
        "company": company["id"],
        "manager": company["billing_manager_member_id"],
        "member": str(seat["member_id"]),
        "checkout": checkout["id"],
        "subscription": done["subscription_id"],
        "order": order["order_id"],
        "seat": seat["id"],
        "pending_seat": pending["id"],
        "invoice": invoices["data"][0]["id"],
        "price": price_id,
    }


@pytest.fixture
async def world(api: Api) -> World:
    a = await _company(api, "Acme", "acme.test")
    b = await _company(api, "Globex", "globex.test")
    sessions = {
        "manager": await api.session(a["manager"]),
        "member": await api.session(a["member"]),
    }
    b_text = [v for k, v in b.items() if k != "price"] + ["Globex", "globex.test"]
    return World(a, b, b_text, sessions)


def _path_routes(schema: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    """(method, path, operationId, company-object parameters) of every route with one."""
    found = []
    for path, operations in schema["paths"].items():
        names = re.findall(r"\{([a-z_]+)\}", path)
        if not any(name in PARAMETER_KIND for name in names):
            continue
        for method, operation in operations.items():
            found.append((method.upper(), path, operation["operationId"], names))
    return found


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{([a-z_]+)\}", lambda m: ids[PARAMETER_KIND[m.group(1)]], path)


def _assert_hidden(response: httpx.Response, world: World, twin: httpx.Response) -> None:
    what = f"{response.request.method} {response.request.url}: {response.text}"
    if twin.status_code == 404:
        assert response.status_code == 404, what
    else:  # a route sessions may never call: the same refusal, whatever the id
        assert (response.status_code, response.json()) == (twin.status_code, twin.json()), what
    for text in world.b_text:
        assert text not in response.text, what


async def test_every_route_with_an_id_hides_another_companys_objects(
    api: Api, world: World
) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    routes = _path_routes(schema)
    assert len(routes) >= 20
    called = 0
    for token in world.sessions.values():
        for method, path, operation, _ in routes:
            body = BODIES.get(operation)
            kwargs: dict[str, Any] = {} if body is None else {"json": body}
            if operation in ("attach_subscription", "attach_order"):
                kwargs = {"json": {"company_id": world.a["company"]}}
            answer = await api.call(method, _fill(path, world.b), token=token, **kwargs)
            twin = await api.call(method, _fill(path, UNKNOWN), token=token, **kwargs)
            _assert_hidden(answer, world, twin)
            called += 1
    assert called == 2 * len(routes)


async def test_ids_in_queries_and_bodies_hide_another_companys_objects(
    api: Api, world: World
) -> None:
    a, b = world.a, world.b
    reads = [
        ("/v1/subscriptions", "company_id"),
        ("/v1/orders", "company_id"),
        ("/v1/invoices", "company_id"),
        ("/v1/invoices", "subscription_id"),
        ("/v1/invoices", "order_id"),
        ("/v1/seats", "subscription_id"),
        ("/v1/seats", "order_id"),
    ]
    writes = [
        ("/v1/seats", {"subscription_id": b["subscription"], "email": "x@acme.test"}),
        ("/v1/seats", {"order_id": b["order"], "email": "x@acme.test"}),
        ("/v1/seats", {"subscription_id": a["subscription"], "member_id": b["member"]}),
        (f"/v1/seats/{a['pending_seat']}/transfer", {"member_id": b["member"]}),
        ("/v1/checkouts", {"price_id": a["price"], "seats": 2, "company_id": b["company"]}),
    ]
    for token in world.sessions.values():
        for path, parameter in reads:
            kind = PARAMETER_KIND[parameter]
            answer = await api.call("GET", f"{path}?{parameter}={b[kind]}", token=token)
            twin = await api.call("GET", f"{path}?{parameter}={UNKNOWN[kind]}", token=token)
            _assert_hidden(answer, world, twin)
        for path, body in writes:
            answer = await api.call("POST", path, token=token, json=body)
            twin_body = {k: _unknown_like(v, b) for k, v in body.items()}
            twin = await api.call("POST", path, token=token, json=twin_body)
            _assert_hidden(answer, world, twin)


def _unknown_like(value: Any, b: dict[str, str]) -> Any:
    for kind, known in b.items():
        if value == known and kind in UNKNOWN:
            return UNKNOWN[kind]
    return value
