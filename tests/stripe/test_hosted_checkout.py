"""A checkout paid on Stripe's hosted page (a Checkout Session), completed from Stripe's
``checkout.session.completed`` event: once, with the payment Stripe took, whatever the order
or repetition of the events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.services import checkouts
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events, settle

pytestmark = pytest.mark.db


async def _checkout(server: Server, **buyer: Any) -> dict[str, Any]:
    rt = server.runtime
    (price_id,) = await shop.product(rt)
    if not buyer:
        buyer = {"company_id": await shop.company(rt)}
    response = await server.client.post(
        "/v1/checkouts", json={"price_id": price_id, "seats": 3, **buyer}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _to_stripe(server: Server, checkout_id: str) -> str:
    response = await server.client.post(f"/checkout/{checkout_id}/stripe")
    assert response.status_code == 303, response.text
    location: str = response.headers["location"]
    return location


async def test_the_hosted_page_is_paid_and_the_event_completes_the_checkout(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    url = await _to_stripe(server, checkout["id"])
    assert await _to_stripe(server, checkout["id"]) == url  # reused while open
    (session,) = fake.objects("checkout.session")
    assert url == session["url"]
    assert session["amount_total"] == 3000
    assert session["payment_intent_data"]["setup_future_usage"] == "off_session"
    assert session["success_url"] == f"http://seatledger.test/checkout/{checkout['id']}/done"
    assert session["cancel_url"] == f"http://seatledger.test/checkout/{checkout['id']}"
    assert session["metadata"] == {"seatledger_checkout": checkout["id"]}
    (customer,) = fake.objects("customer")
    assert session["customer"] == customer["id"]

    assert (await fake.complete_session(session["id"], "pm_card_visa")).status_code == 200
    await settle(fake)
    await apply_events(server.runtime)

    done = (await server.client.get(f"/v1/checkouts/{checkout['id']}")).json()
    assert done["status"] == "completed"
    sub = (await server.client.get(f"/v1/subscriptions/{done['subscription_id']}")).json()
    assert (sub["status"], sub["seats"]) == ("active", 3)
    invoices = (await server.client.get(f"/v1/invoices?subscription_id={sub['id']}")).json()
    assert [(i["status"], i["total"]) for i in invoices["data"]] == [("paid", 3000)]
    (intent,) = fake.objects("payment_intent")  # one charge: Stripe's, none of ours
    async with server.runtime.engine.connect() as c:
        row = (await c.execute(select(t.subscriptions))).one()
        payment = (await c.execute(select(t.payments))).one()
    assert row.payment_method == intent["payment_method"]  # the saved card, for renewals
    assert fake.store.objects[intent["payment_method"]]["customer"] == customer["id"]
    assert (payment.provider_reference, payment.amount) == (intent["id"], 3000)
    again = await server.client.post(f"/checkout/{checkout['id']}/stripe")
    assert again.status_code == 409
    assert again.json()["code"] == "checkout_not_open"


async def test_the_same_event_twice_and_late_completes_the_checkout_once(
    server: Server, fake: FakeStripe
) -> None:
    fake.hold_events()
    checkout = await _checkout(server)
    await _to_stripe(server, checkout["id"])
    (session,) = fake.objects("checkout.session")
    await fake.complete_session(session["id"])
    completed = fake.queued("checkout.session.completed")
    assert len(completed) == 1
    # The payment's own events first, then the completion twice: "late" and repeated.
    await fake.deliver(("payment_intent.created", "payment_intent.succeeded"), reverse=True)
    await fake.deliver(("checkout.session.completed",), twice=True)
    async with server.runtime.engine.connect() as c:
        kept = (await c.execute(select(t.provider_events.c.type))).scalars().all()
    assert sorted(kept) == [
        "checkout.session.completed",  # kept once: the second delivery was a duplicate
        "payment_intent.created",
        "payment_intent.succeeded",
    ]
    await apply_events(server.runtime)
    # Delivered again after it was applied: still one purchase.
    fake.store.outgoing.extend(completed)
    assert await fake.deliver(("checkout.session.completed",)) == [200]
    await apply_events(server.runtime)
    listed = await checkouts.list_checkouts(server.runtime, limit=10)
    assert [c.status for c in listed.data] == ["completed"]
    async with server.runtime.engine.connect() as c:
        assert len((await c.execute(select(t.subscriptions))).all()) == 1
        assert len((await c.execute(select(t.invoices))).all()) == 1
        statuses = (await c.execute(select(t.provider_events.c.status))).scalars().all()
    assert set(statuses) == {"done"}


async def test_a_declined_card_on_the_page_leaves_the_checkout_open(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    url = await _to_stripe(server, checkout["id"])
    (session,) = fake.objects("checkout.session")
    declined = await fake.complete_session(session["id"], "pm_card_chargeDeclined")
    assert declined.status_code == 402
    assert declined.json()["error"]["decline_code"] == "generic_decline"
    await settle(fake)
    await apply_events(server.runtime)
    assert (await server.client.get(f"/v1/checkouts/{checkout['id']}")).json()["status"] == "open"
    assert await _to_stripe(server, checkout["id"]) == url  # try another card on the same page


async def test_a_changed_seat_count_opens_a_new_page(server: Server, fake: FakeStripe) -> None:
    checkout = await _checkout(server)
    first = await _to_stripe(server, checkout["id"])
    patched = await server.client.patch(f"/v1/checkouts/{checkout['id']}", json={"seats": 4})
    assert patched.status_code == 200, patched.text
    second = await _to_stripe(server, checkout["id"])
    assert second != first
    assert [s["amount_total"] for s in fake.objects("checkout.session")] == [3000, 4000]


async def test_an_email_purchase_keeps_its_customer_when_its_company_arrives(
    server: Server, fake: FakeStripe
) -> None:
    rt = server.runtime
    checkout = await _checkout(server, customer_email="dana@acme.test")
    await _to_stripe(server, checkout["id"])
    (session,) = fake.objects("checkout.session")
    await fake.complete_session(session["id"])
    await settle(fake)
    await apply_events(rt)
    (customer,) = fake.objects("customer")
    assert customer["email"] == "dana@acme.test"
    company_id = await shop.company(rt, "Dana@acme.test")  # attaches the purchase
    more = await server.client.post(
        "/v1/checkouts",
        json={"price_id": checkout["price_id"], "seats": 1, "company_id": company_id},
    )
    await _to_stripe(server, more.json()["id"])
    assert len(fake.objects("customer")) == 1  # the company took the email's customer over
    assert {s["customer"] for s in fake.objects("checkout.session")} == {customer["id"]}


async def test_a_trial_price_is_refused_at_checkout_with_stripe(
    server: Server, fake: FakeStripe
) -> None:
    """Trials need a card checked without a charge, which the Stripe gateway does not do yet:
    the checkout is refused before anything is written or sent to Stripe."""
    rt = server.runtime
    (price_id,) = await shop.product(rt, shop.per_seat(1000, trial_days=14))
    company_id = await shop.company(rt)
    response = await server.client.post(
        "/v1/checkouts", json={"price_id": price_id, "seats": 3, "company_id": company_id}
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "trial_not_supported"
    assert await shop.count(rt.engine, t.checkouts) == 0
    assert fake.objects("checkout.session") == []
