"""Checkouts, subscriptions, orders, invoices and credit through HTTP (SPEC §3, §4, §6)."""

from __future__ import annotations

from datetime import timedelta

from seatledger.domain.clock import FixedClock
from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime
from tests.e2e.api import ONE_TIME, Api, problem, row_counts

SUBSCRIPTION_FIELDS = {
    "id",
    "company_id",
    "price_id",
    "status",
    "seats",
    "assigned_seats",
    "available_seats",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "pending_change",
    "trial_end",
}


async def test_a_checkout_is_opened_changed_declined_and_paid(api: Api, runtime: Runtime) -> None:
    price_id = await api.price(currency="jpy", maximum_seats=20)
    company = await api.company()
    checkout = await api.checkout(price_id, 3, company_id=company["id"])
    assert (checkout["amount_due"], checkout["currency"], checkout["status"]) == (
        3000,
        "jpy",
        "open",
    )
    assert checkout["expires_at"] == "2027-01-02T00:00:00Z"
    path = f"/v1/checkouts/{checkout['id']}"
    changed = (await api.call("PATCH", path, 200, json={"seats": 5})).json()
    assert (changed["seats"], changed["amount_due"]) == (5, 5000)
    problem(await api.call("PATCH", path, json={"seats": 21}), 422, "seats_out_of_range", "seats")
    counts = await row_counts(runtime)
    declined = await api.call(
        "POST", f"{path}/confirm", json={"payment_method": "pm_card_declined"}
    )
    problem(declined, 402, "payment_failed")
    counts_after = await row_counts(runtime)
    assert counts_after["subscriptions"] == counts["subscriptions"]
    assert counts_after["invoices"] == counts["invoices"]
    paid = await api.post(f"{path}/confirm", {"payment_method": "pm_card_ok"}, 200)
    assert (paid["status"], paid["order_id"]) == ("completed", None)
    problem(
        await api.call("POST", f"{path}/confirm", json={"payment_method": "pm_card_ok"}),
        409,
        "checkout_not_open",
    )
    problem(await api.call("PATCH", path, json={"seats": 2}), 409, "checkout_not_open")
    subscription = await api.get(f"/v1/subscriptions/{paid['subscription_id']}")
    assert set(subscription) == SUBSCRIPTION_FIELDS
    assert subscription == {
        "id": paid["subscription_id"],
        "company_id": company["id"],
        "price_id": price_id,
        "status": "active",
        "seats": 5,
        "assigned_seats": 0,
        "available_seats": 5,
        "current_period_start": "2027-01-01T00:00:00Z",
        "current_period_end": "2027-02-01T00:00:00Z",
        "cancel_at_period_end": False,
        "pending_change": None,
        "trial_end": None,
    }
    listed = await api.get(f"/v1/subscriptions?company_id={company['id']}")
    assert [s["id"] for s in listed["data"]] == [subscription["id"]]


async def test_checkout_input_errors(api: Api, runtime: Runtime) -> None:
    price_id = await api.price(minimum_seats=2, maximum_seats=10)
    company = await api.company()
    counts = await row_counts(runtime)
    for body, status, code, field in [
        (
            {"price_id": price_id, "seats": 1, "company_id": company["id"]},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": 11, "company_id": company["id"]},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": 0, "company_id": company["id"]},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": 10**30, "company_id": company["id"]},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": -(10**30), "company_id": company["id"]},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": "3", "company_id": company["id"]},
            422,
            "validation_error",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": 3.0, "company_id": company["id"]},
            422,
            "validation_error",
            "seats",
        ),
        (
            {"price_id": price_id, "seats": True, "company_id": company["id"]},
            422,
            "validation_error",
            "seats",
        ),
        (
            {"price_id": new_id("price"), "seats": 3, "company_id": company["id"]},
            404,
            "not_found",
            "price_id",
        ),
        (
            {"price_id": "bogus", "seats": 3, "company_id": company["id"]},
            404,
            "not_found",
            "price_id",
        ),
        (
            {"price_id": price_id, "seats": 3, "company_id": new_id("co")},
            404,
            "not_found",
            "company_id",
        ),
        ({"price_id": price_id, "seats": 3}, 422, "validation_error", "company_id"),
        (
            {
                "price_id": price_id,
                "seats": 3,
                "company_id": company["id"],
                "customer_email": "a@b.test",
            },
            422,
            "validation_error",
            "company_id",
        ),
        (
            {"price_id": price_id, "seats": 3, "customer_email": "nope"},
            422,
            "validation_error",
            "customer_email",
        ),
    ]:
        problem(await api.call("POST", "/v1/checkouts", json=body), status, code, field)
    problem(
        await api.call("PATCH", f"/v1/checkouts/{new_id('chk')}", json={"seats": 3}),
        404,
        "not_found",
    )
    problem(
        await api.call(
            "POST", f"/v1/checkouts/{new_id('chk')}/confirm", json={"payment_method": "pm_card_ok"}
        ),
        404,
        "not_found",
    )
    assert await row_counts(runtime) == counts


async def test_an_order_and_its_invoice(api: Api) -> None:
    price_id = await api.price(**ONE_TIME)
    company = await api.company()
    done = await api.buy(price_id, company["id"], 10)
    order = await api.get(f"/v1/orders/{done['order_id']}")
    assert order == {
        "id": done["order_id"],
        "company_id": company["id"],
        "price_id": price_id,
        "seats": 10,
        "amount": 10000,
        "currency": "usd",
        "status": "paid",
        "assigned_seats": 0,
        "available_seats": 10,
    }
    assert [o["id"] for o in (await api.get(f"/v1/orders?company_id={company['id']}"))["data"]] == [
        order["id"]
    ]
    [invoice] = (await api.get(f"/v1/invoices?order_id={order['id']}"))["data"]
    assert invoice["lines"] == [
        {
            "description": "Seats 1–10 (tier 1)",
            "quantity": 10,
            "unit_amount": 1000,
            "amount": 10000,
            "period_start": None,
            "period_end": None,
            "kind": "seats",
        }
    ]
    assert await api.get(f"/v1/invoices/{invoice['id']}") == invoice
    problem(await api.call("GET", f"/v1/orders/{new_id('ord')}"), 404, "not_found")
    assert [o["id"] for o in (await api.get("/v1/orders"))["data"]] == [order["id"]]
    problem(
        await api.call("GET", f"/v1/orders?company_id={new_id('co')}"),
        404,
        "not_found",
        "company_id",
    )
    assert [i["id"] for i in (await api.get("/v1/invoices"))["data"]] == [invoice["id"]]
    problem(await api.call("GET", f"/v1/invoices/{new_id('inv')}"), 404, "not_found")
    pay = await api.call(
        "POST", f"/v1/invoices/{invoice['id']}/pay", json={"payment_method": "pm_card_ok"}
    )
    problem(pay, 409, "invoice_not_open")


async def test_a_purchase_before_the_company_exists_attaches(api: Api) -> None:
    price_id = await api.price()
    one_time = await api.price(**ONE_TIME)
    checkout = await api.checkout(price_id, 2, customer_email="Owner@Startup.Test")
    done = await api.post(
        f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
    )
    subscription_id = done["subscription_id"]
    response = await api.call(
        "POST", "/v1/seats", json={"subscription_id": subscription_id, "email": "a@b.test"}
    )
    problem(response, 409, "company_required")
    company = await api.company("owner@startup.test")  # attaches on creation
    assert (await api.get(f"/v1/subscriptions/{subscription_id}"))["company_id"] == company["id"]

    order_checkout = await api.checkout(one_time, 2, customer_email="someone@else.test")
    order_id = (
        await api.post(
            f"/v1/checkouts/{order_checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
        )
    )["order_id"]
    attached = await api.post(f"/v1/orders/{order_id}/attach", {"company_id": company["id"]}, 200)
    assert attached["company_id"] == company["id"]
    again = await api.post(f"/v1/orders/{order_id}/attach", {"company_id": company["id"]}, 200)
    assert again == attached
    other = await api.company("boss@other.test")
    problem(
        await api.call("POST", f"/v1/orders/{order_id}/attach", json={"company_id": other["id"]}),
        409,
        "already_attached",
    )
    problem(
        await api.call(
            "POST", f"/v1/subscriptions/{subscription_id}/attach", json={"company_id": other["id"]}
        ),
        409,
        "already_attached",
    )
    problem(
        await api.call(
            "POST", f"/v1/subscriptions/{subscription_id}/attach", json={"company_id": new_id("co")}
        ),
        404,
        "not_found",
        "company_id",
    )
    same = await api.post(
        f"/v1/subscriptions/{subscription_id}/attach", {"company_id": company["id"]}, 200
    )
    assert same["id"] == subscription_id


async def test_changing_previewing_and_cancelling_a_subscription(
    api: Api, runtime: Runtime
) -> None:
    subscription_id, company = await api.subscription(seats=3)
    path = f"/v1/subscriptions/{subscription_id}"
    counts = await row_counts(runtime)
    preview = await api.post(f"{path}/preview", {"seats": 8}, 200)
    assert (preview["proration_behavior"], preview["invoice_now"], preview["seats"]) == (
        "invoice",
        True,
        8,
    )
    assert preview["amount_due_now"] == 5000  # a whole month: the change happens at its start
    assert [line["kind"] for line in preview["lines"]] == ["proration"]
    assert await row_counts(runtime) == counts  # a preview writes nothing

    grown = (await api.call("PATCH", path, 200, json={"seats": 8})).json()
    assert (grown["seats"], grown["available_seats"]) == (8, 8)
    invoices = (await api.get(f"/v1/invoices?subscription_id={subscription_id}"))["data"]
    assert [i["total"] for i in invoices] == [3000, 5000]
    for i in range(2):
        await api.assign({"subscription_id": subscription_id}, f"p{i}@acme.test")
    problem(await api.call("PATCH", path, json={"seats": 1}), 409, "seats_below_assigned")
    problem(await api.call("PATCH", path, json={"seats": 0}), 422, "seats_out_of_range", "seats")
    problem(
        await api.call("PATCH", path, json={"seats": 10**30}), 422, "seats_out_of_range", "seats"
    )
    problem(
        await api.call("PATCH", path, json={"proration_behavior": "later"}),
        422,
        "validation_error",
        "proration_behavior",
    )
    problem(
        await api.call("PATCH", path, json={"price_id": new_id("price")}),
        404,
        "not_found",
        "price_id",
    )

    scheduled = (
        await api.call("PATCH", path, 200, json={"seats": 4, "proration_behavior": "next_period"})
    ).json()
    assert scheduled["seats"] == 8
    assert scheduled["pending_change"] == {
        "seats": 4,
        "price_id": grown["price_id"],
        "effective_at": "2027-02-01T00:00:00Z",
    }

    credit = (
        await api.call("PATCH", path, 200, json={"seats": 6, "proration_behavior": "invoice"})
    ).json()
    assert credit["seats"] == 6
    balance = await api.get(f"/v1/companies/{company['id']}/balance")
    assert balance == {"data": [{"currency": "usd", "amount": 2000}]}

    at_end = await api.post(f"{path}/cancel", {"at_period_end": True}, 200)
    assert at_end["cancel_at_period_end"] is True
    problem(await api.call("PATCH", path, json={"seats": 7}), 409, "subscription_not_active")
    undone = (await api.call("PATCH", path, 200, json={"cancel_at_period_end": False})).json()
    assert undone["cancel_at_period_end"] is False
    canceled = await api.post(f"{path}/cancel", {"at_period_end": False}, 200)
    assert (canceled["status"], canceled["assigned_seats"]) == ("canceled", 0)
    assert await api.post(f"{path}/cancel", {"at_period_end": False}, 200) == canceled
    problem(await api.call("PATCH", path, json={"seats": 7}), 409, "subscription_not_active")
    problem(
        await api.call("POST", f"{path}/cancel", json={}), 422, "validation_error", "at_period_end"
    )
    problem(
        await api.call(
            "POST", f"/v1/subscriptions/{new_id('sub')}/cancel", json={"at_period_end": True}
        ),
        404,
        "not_found",
    )
    problem(await api.call("GET", f"/v1/subscriptions/{new_id('sub')}"), 404, "not_found")
    listed = await api.get("/v1/subscriptions")
    assert [s["id"] for s in listed["data"]] == [subscription_id]


async def test_a_declined_change_changes_nothing(api: Api, runtime: Runtime) -> None:
    price_id = await api.price()
    company = await api.company()
    done = await api.buy(price_id, company["id"], 3, method="pm_card_fail_after_first")
    path = f"/v1/subscriptions/{done['subscription_id']}"
    counts = await row_counts(runtime)
    problem(await api.call("PATCH", path, json={"seats": 5}), 402, "payment_failed")
    assert (await api.get(path))["seats"] == 3
    after = await row_counts(runtime)
    assert after["invoices"] == counts["invoices"]


async def test_a_failed_renewal_is_paid_by_hand(api: Api) -> None:
    price_id = await api.price()
    company = await api.company()
    done = await api.buy(price_id, company["id"], 2, method="pm_card_fail_after_first")
    subscription_id = done["subscription_id"]
    clock = await api.post("/v1/sandbox/clock", {"now": "2027-02-01T00:00:00Z"}, 200)
    assert clock == {"now": "2027-02-01T00:00:00Z", "renewed": [subscription_id]}
    assert (await api.get(f"/v1/subscriptions/{subscription_id}"))["status"] == "past_due"
    invoices = (await api.get(f"/v1/invoices?subscription_id={subscription_id}"))["data"]
    [open_invoice] = [i for i in invoices if i["status"] == "open"]
    pay = f"/v1/invoices/{open_invoice['id']}/pay"
    problem(
        await api.call("POST", pay, json={"payment_method": "pm_card_declined"}),
        402,
        "payment_failed",
    )
    problem(await api.call("POST", pay, json={}), 422, "validation_error", "payment_method")
    paid = await api.post(pay, {"payment_method": "pm_card_ok"}, 200)
    assert (paid["status"], paid["number"]) == ("paid", open_invoice["number"])
    assert (await api.get(f"/v1/subscriptions/{subscription_id}"))["status"] == "active"
    problem(
        await api.call("POST", pay, json={"payment_method": "pm_card_ok"}), 409, "invoice_not_open"
    )
    problem(
        await api.call(
            "POST", f"/v1/invoices/{new_id('inv')}/pay", json={"payment_method": "pm_card_ok"}
        ),
        404,
        "not_found",
    )


async def test_an_unknown_payment_method_is_a_validation_error_not_a_decline(
    api: Api, runtime: Runtime
) -> None:
    """A typo is not a decline (SPEC §7): 422 naming payment_method, and nothing changes."""
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    confirm = f"/v1/checkouts/{checkout['id']}/confirm"
    counts = await row_counts(runtime)
    for method in ("pm_card_okk", "PM_CARD_OK", "tok_visa"):
        body = problem(
            await api.call("POST", confirm, json={"payment_method": method}),
            422,
            "validation_error",
            "payment_method",
        )
        assert "pm_card_ok" in body["errors"][0]["message"]  # says what would do
    assert await row_counts(runtime) == counts
    assert (await api.get(f"/v1/checkouts/{checkout['id']}"))["status"] == "open"

    done = await api.post(confirm, {"payment_method": "pm_card_fail_after_first"}, 200)
    subscription_id = done["subscription_id"]
    await api.post("/v1/sandbox/clock", {"now": "2027-02-01T00:00:00Z"}, 200)
    [unpaid] = [
        i
        for i in (await api.get(f"/v1/invoices?subscription_id={subscription_id}"))["data"]
        if i["status"] == "open"
    ]
    counts = await row_counts(runtime)
    pay = f"/v1/invoices/{unpaid['id']}/pay"
    problem(
        await api.call("POST", pay, json={"payment_method": "pm_card_oops"}),
        422,
        "validation_error",
        "payment_method",
    )
    assert await row_counts(runtime) == counts
    assert (await api.get(f"/v1/invoices/{unpaid['id']}"))["status"] == "open"
    assert (await api.get(f"/v1/subscriptions/{subscription_id}"))["status"] == "past_due"


async def test_a_checkout_expires_after_a_day(api: Api, clock: FixedClock) -> None:
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    clock.advance(timedelta(hours=24))
    path = f"/v1/checkouts/{checkout['id']}"
    problem(await api.call("PATCH", path, json={"seats": 3}), 409, "checkout_not_open")
    confirm = await api.call("POST", f"{path}/confirm", json={"payment_method": "pm_card_ok"})
    problem(confirm, 409, "checkout_not_open")
