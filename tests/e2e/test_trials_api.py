"""Free trials over HTTP: ``trial_days`` on a price, a checkout that owes 0 and says what the
trial's end will bill, a ``trialing`` subscription with its ``trial_end``, a change previewed
and billed at 0 during the trial, and the sandbox clock moving past the trial's end."""

from __future__ import annotations

from fastapi import FastAPI

from seatledger.services.runtime import Runtime
from tests.e2e.api import ONE_TIME, PRICE, Api, problem, row_counts
from tests.e2e.portal import Visitor


async def _move(api: Api, now: str) -> None:
    await api.post("/v1/sandbox/clock", {"now": now}, 200)


async def test_trial_days_are_checked_and_shown(api: Api, runtime: Runtime) -> None:
    product = await api.product(trial_days=30)
    assert product["prices"][0]["trial_days"] == 30
    assert (await api.product())["prices"][0]["trial_days"] is None
    counts = await row_counts(runtime)
    body = {"name": "Once", "prices": [PRICE, {**ONE_TIME, "trial_days": 7}]}
    problem(
        await api.call("POST", "/v1/products", json=body),
        422,
        "validation_error",
        "prices[1].trial_days",
    )
    for days in (0, 731, "7", 1.5):
        body = {"name": "Bad", "prices": [{**PRICE, "trial_days": days}]}
        problem(await api.call("POST", "/v1/products", json=body), 422, "validation_error")
    added = f"/v1/products/{product['id']}/prices"
    problem(
        await api.call("POST", added, json={**ONE_TIME, "trial_days": 7}),
        422,
        "validation_error",
        "trial_days",
    )
    assert await row_counts(runtime) == counts
    again = await api.post(added, {**PRICE, "trial_days": 730})
    assert (again["version"], again["trial_days"]) == (2, 730)


async def test_a_trial_from_checkout_to_its_first_charge(api: Api) -> None:
    await _move(api, "2027-01-10T09:00:00Z")
    price_id = await api.price(trial_days=14)
    company = await api.company()
    checkout = await api.checkout(price_id, 3, company_id=company["id"])
    assert (checkout["amount_due"], checkout["trial_days"], checkout["amount_due_after_trial"]) == (
        0,
        14,
        3000,
    )
    path = f"/v1/checkouts/{checkout['id']}"
    problem(
        await api.call("POST", f"{path}/confirm", json={"payment_method": "pm_card_declined"}),
        402,
        "payment_failed",
    )
    problem(await api.call("POST", f"{path}/confirm", json={}), 422, "validation_error")
    done = await api.post(f"{path}/confirm", {"payment_method": "pm_card_ok"}, 200)
    sub_path = f"/v1/subscriptions/{done['subscription_id']}"
    sub = await api.get(sub_path)
    assert (sub["status"], sub["trial_end"], sub["current_period_end"]) == (
        "trialing",
        "2027-01-24T09:00:00Z",
        "2027-01-24T09:00:00Z",
    )
    [invoice] = (await api.get(f"/v1/invoices?subscription_id={sub['id']}"))["data"]
    assert (invoice["total"], invoice["status"]) == (0, "paid")
    assert [(x["description"], x["quantity"], x["amount"]) for x in invoice["lines"]] == [
        ("Trial until Jan 24, 2027", 3, 0)
    ]

    seat = await api.assign({"subscription_id": sub["id"]}, "ann@acme.test")
    claimed = await api.post(f"/v1/claims/{seat['invitation']['token']}", None, 200)
    assert claimed["seat"]["status"] == "claimed"
    limits = await api.get(f"/v1/companies/{company['id']}/entitlements")
    assert limits["seats"] == {"limit": 3, "used": 1, "available": 2}

    await _move(api, "2027-01-20T09:00:00Z")
    preview = await api.post(f"{sub_path}/preview", {"seats": 6}, 200)
    assert (preview["lines"], preview["total"], preview["amount_due_now"]) == ([], 0, 0)
    changed = (await api.call("PATCH", sub_path, 200, json={"seats": 6})).json()
    assert (changed["seats"], changed["status"]) == (6, "trialing")

    moved = await api.post("/v1/sandbox/clock", {"now": "2027-01-24T09:00:00Z"}, 200)
    assert moved["renewed"] == [sub["id"]]
    sub = await api.get(sub_path)
    assert (sub["status"], sub["current_period_end"]) == ("active", "2027-02-24T09:00:00Z")
    invoices = (await api.get(f"/v1/invoices?subscription_id={sub['id']}"))["data"]
    assert [(i["total"], i["status"]) for i in invoices] == [(0, "paid"), (6000, "paid")]
    renewed = (await api.get("/v1/events?type=subscription.renewed"))["data"]
    assert (renewed[0]["data"]["status"], renewed[0]["data"]["trial_end"]) == (
        "active",
        "2027-01-24T09:00:00Z",
    )


async def test_cancelling_a_trial_bills_nothing(api: Api) -> None:
    await _move(api, "2027-01-10T09:00:00Z")
    price_id = await api.price(trial_days=7)
    company = await api.company()
    done = await api.buy(price_id, company["id"], seats=2)
    sub_path = f"/v1/subscriptions/{done['subscription_id']}"
    await api.call("PATCH", sub_path, 200, json={"seats": 1})
    canceled = await api.post(f"{sub_path}/cancel", {"at_period_end": False}, 200)
    assert canceled["status"] == "canceled"
    invoices = (await api.get(f"/v1/invoices?subscription_id={done['subscription_id']}"))["data"]
    assert [i["total"] for i in invoices] == [0]
    balance = await api.get(f"/v1/companies/{company['id']}/balance")
    assert balance["data"] == []


async def test_the_portal_shows_the_trial_and_its_end(api: Api, app: FastAPI) -> None:
    await _move(api, "2027-01-10T09:00:00Z")
    price_id = await api.price(trial_days=14)
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    visitor = Visitor(app, None)
    page = (await visitor.get(f"/checkout/{checkout['id']}")).text
    assert "Free for 14 days" in page
    assert "Due when the 14-day trial ends" in page
    await visitor.aclose()
    done = await api.post(
        f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
    )
    manager = Visitor(app, await api.session(company["billing_manager_member_id"]))
    listed = (await manager.get("/portal/manage")).text
    assert "Trial until Jan 24, 2027" in listed
    pool = (await manager.get(f"/portal/subscriptions/{done['subscription_id']}")).text
    assert 'id="trial-notice">Trial until Jan 24, 2027' in pool
    await manager.aclose()
