"""Companies, members, entitlements, balances, customer sessions and webhook endpoints through
HTTP (SPEC §5, §6)."""

from __future__ import annotations

from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts


async def test_a_company_is_created_read_renamed_and_handed_over(api: Api) -> None:
    company = await api.company("Boss@Acme.Test", external_id="crm-1")
    assert set(company) == {"id", "name", "external_id", "billing_manager_member_id", "created_at"}
    assert (await api.get(f"/v1/companies/{company['id']}")) == company
    members = (await api.get(f"/v1/companies/{company['id']}/members"))["data"]
    assert members == [
        {
            "id": company["billing_manager_member_id"],
            "company_id": company["id"],
            "email": "boss@acme.test",
            "name": None,
            "external_id": None,
            "role": "billing_manager",
        }
    ]
    renamed = await api.call(
        "PATCH", f"/v1/companies/{company['id']}", 200, json={"name": "Acme Inc"}
    )
    assert renamed.json()["name"] == "Acme Inc"
    ann = await api.post(
        f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test", "name": "Ann"}
    )
    handed = await api.call(
        "PATCH",
        f"/v1/companies/{company['id']}",
        200,
        json={"billing_manager_member_id": ann["id"]},
    )
    assert handed.json()["billing_manager_member_id"] == ann["id"]
    roles = {
        m["email"]: m["role"]
        for m in (await api.get(f"/v1/companies/{company['id']}/members"))["data"]
    }
    assert roles == {"boss@acme.test": "member", "ann@acme.test": "billing_manager"}
    response = await api.call(
        "PATCH", f"/v1/companies/{company['id']}", json={"billing_manager_member_id": new_id("mem")}
    )
    problem(response, 404, "not_found", "billing_manager_member_id")
    problem(await api.call("GET", f"/v1/companies/{new_id('co')}"), 404, "not_found")
    problem(
        await api.call("PATCH", f"/v1/companies/{new_id('co')}", json={"name": "x"}),
        404,
        "not_found",
    )


async def test_company_conflicts(api: Api, runtime: Runtime) -> None:
    company = await api.company(external_id="crm-1")
    counts = await row_counts(runtime)
    body = {"name": "Other", "external_id": "crm-1", "billing_manager": {"email": "x@other.test"}}
    problem(await api.call("POST", "/v1/companies", json=body), 409, "external_id_taken")
    path = f"/v1/companies/{company['id']}/members"
    problem(await api.call("POST", path, json={"email": "BOSS@acme.test"}), 409, "already_member")
    manager = company["billing_manager_member_id"]
    problem(await api.call("DELETE", f"{path}/{manager}"), 409, "billing_manager_required")
    problem(await api.call("DELETE", f"{path}/{new_id('mem')}"), 404, "not_found")
    bad_email = {"name": "x", "billing_manager": {"email": "not an email"}}
    problem(
        await api.call("POST", "/v1/companies", json=bad_email),
        422,
        "validation_error",
        "billing_manager.email",
    )
    assert await row_counts(runtime) == counts


async def test_removing_a_member_revokes_their_seats(api: Api) -> None:
    subscription_id, company = await api.subscription()
    ann = await api.post(f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test"})
    seat = await api.post(
        "/v1/seats",
        {"subscription_id": subscription_id, "member_id": ann["id"], "immediate_claim": True},
    )
    removed = await api.call("DELETE", f"/v1/companies/{company['id']}/members/{ann['id']}", 204)
    assert removed.content == b""
    seats = await api.get(f"/v1/seats?subscription_id={subscription_id}&include_revoked=true")
    assert [(s["id"], s["status"]) for s in seats["data"]] == [(seat["id"], "revoked")]
    problem(await api.call("GET", f"/v1/members/{ann['id']}/entitlements"), 404, "not_found")


async def test_entitlements_and_balance_of_a_company(api: Api) -> None:
    company = await api.company()
    empty = await api.get(f"/v1/companies/{company['id']}/entitlements")
    assert empty == {"seats": {"limit": 0, "used": 0, "available": 0}, "products": []}
    product = await api.product()
    await api.buy(product["prices"][0]["id"], company["id"], 4)
    members_price = await api.price(seat_sync="members", maximum_seats=None)
    await api.buy(members_price, company["id"], 1)
    rights = await api.get(f"/v1/companies/{company['id']}/entitlements")
    assert rights["seats"] == {"limit": None, "used": 1, "available": None}
    by_product = {p["product_id"]: p["seats"] for p in rights["products"]}
    assert by_product[product["id"]] == {"limit": 4, "used": 0, "available": 4}
    assert await api.get(f"/v1/companies/{company['id']}/balance") == {"data": []}
    problem(await api.call("GET", f"/v1/companies/{new_id('co')}/entitlements"), 404, "not_found")
    problem(await api.call("GET", f"/v1/companies/{new_id('co')}/balance"), 404, "not_found")


async def test_a_customer_session_for_a_member(api: Api) -> None:
    company = await api.company()
    session = await api.post(
        "/v1/customer-sessions", {"member_id": company["billing_manager_member_id"]}
    )
    assert session["token"].startswith("cs_")
    assert session["portal_url"] == f"http://127.0.0.1:8000/portal?session={session['token']}"
    assert (session["member_id"], session["company_id"]) == (
        company["billing_manager_member_id"],
        company["id"],
    )
    assert session["expires_at"] == "2027-01-02T00:00:00Z"
    response = await api.call("POST", "/v1/customer-sessions", json={"member_id": new_id("mem")})
    problem(response, 404, "not_found", "member_id")


async def test_webhook_endpoints_are_registered_with_a_secret(api: Api, runtime: Runtime) -> None:
    endpoint = await api.post(
        "/v1/webhook-endpoints", {"url": "https://hooks.example.test/seatledger"}
    )
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["event_types"] == ["*"]
    chosen = await api.post(
        "/v1/webhook-endpoints",
        {
            "url": "https://hooks.example.test/seats",
            "event_types": ["seat.claimed", "seat.revoked"],
        },
    )
    assert chosen["event_types"] == ["seat.claimed", "seat.revoked"]
    counts = await row_counts(runtime)
    for body, field in [
        ({"url": "ftp://x.test"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://x.test", "event_types": ["Seat Claimed"]}, "event_types[0]"),
        ({"url": "https://x.test", "event_types": []}, "event_types"),
    ]:
        problem(
            await api.call("POST", "/v1/webhook-endpoints", json=body),
            422,
            "validation_error",
            field,
        )
    assert await row_counts(runtime) == counts
