"""The main flow through HTTP, end to end: product → company → checkout → confirm → assign →
claim → entitlements → revoke (SPEC §2–§6)."""

from __future__ import annotations

from tests.e2e.api import Api, problem


async def test_buy_assign_claim_hold_and_revoke(api: Api) -> None:
    note = await api.post(
        "/v1/benefits",
        {"type": "custom", "description": "Welcome", "properties": {"note": "Hello!"}},
    )
    license_key = await api.post(
        "/v1/benefits",
        {"type": "license_key", "description": "Licence", "properties": {"prefix": "TEAM"}},
    )
    product = await api.post(
        "/v1/products",
        {
            "name": "Team plan",
            "prices": [
                {
                    "currency": "usd",
                    "interval": "month",
                    "tiers_mode": "volume",
                    "tiers": [
                        {"up_to": 10, "unit_amount": 1000},
                        {"up_to": None, "unit_amount": 800},
                    ],
                }
            ],
            "benefit_ids": [note["id"], license_key["id"]],
        },
    )
    price_id = product["prices"][0]["id"]
    company = await api.company("boss@acme.test")

    checkout = await api.checkout(price_id, 14, company_id=company["id"])
    assert (checkout["status"], checkout["amount_due"], checkout["currency"]) == (
        "open",
        11200,
        "usd",
    )
    assert checkout["url"].endswith(checkout["id"])
    done = await api.post(
        f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
    )
    assert (done["status"], done["order_id"]) == ("completed", None)
    subscription = await api.get(f"/v1/subscriptions/{done['subscription_id']}")
    assert (subscription["seats"], subscription["assigned_seats"], subscription["status"]) == (
        14,
        0,
        "active",
    )
    [invoice] = (await api.get(f"/v1/invoices?subscription_id={subscription['id']}"))["data"]
    assert (invoice["number"], invoice["status"], invoice["total"]) == ("INV-000001", "paid", 11200)

    seat = await api.assign({"subscription_id": subscription["id"]}, "Ann@Acme.Test")
    assert (seat["status"], seat["email"]) == ("pending", "ann@acme.test")
    token = seat["invitation"]["token"]
    looked = await api.get(f"/v1/claims/{token}", headers={"Authorization": ""})
    assert (looked["product_name"], looked["company_name"]) == ("Team plan", "Acme")

    claim = await api.client.post(f"/v1/claims/{token}")  # public: no credential
    assert claim.status_code == 200, claim.text
    claimed = claim.json()
    assert claimed["seat"]["status"] == "claimed"
    assert [g["benefit_id"] for g in claimed["grants"]] == [note["id"], license_key["id"]]
    assert claimed["grants"][1]["properties"]["license_key"].startswith("TEAM-")
    member_id = claimed["seat"]["member_id"]

    held = await api.get(f"/v1/members/{member_id}/entitlements", token=claimed["session_token"])
    assert [p["product_id"] for p in held["products"]] == [product["id"]]
    assert held["products"][0]["seat_ids"] == [seat["id"]]
    company_rights = await api.get(f"/v1/companies/{company['id']}/entitlements")
    assert company_rights["seats"] == {"limit": 14, "used": 1, "available": 13}

    revoked = (await api.call("DELETE", f"/v1/seats/{seat['id']}", 200)).json()
    assert revoked["status"] == "revoked"
    assert revoked["revoked_at"] is not None
    held = await api.get(f"/v1/members/{member_id}/entitlements")
    assert held["products"] == []
    company_rights = await api.get(f"/v1/companies/{company['id']}/entitlements")
    assert company_rights["seats"] == {"limit": 14, "used": 0, "available": 14}
    problem(await api.client.post(f"/v1/claims/{token}"), 400, "invalid_token")
    listed = await api.get(f"/v1/seats?subscription_id={subscription['id']}")
    assert (listed["data"], listed["available_seats"]) == ([], 14)
