"""Charges through the Stripe gateway: a confirm by API (on-session, the card saved), declines,
rate limits, Stripe down, answers lost after the charge — never a second charge."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from tests.e2e.api import problem, row_counts
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server

pytestmark = pytest.mark.db


async def _checkout(server: Server) -> dict[str, Any]:
    rt = server.runtime
    (price_id,) = await shop.product(rt)
    company_id = await shop.company(rt)
    response = await server.client.post(
        "/v1/checkouts", json={"price_id": price_id, "seats": 2, "company_id": company_id}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _confirm(server: Server, checkout_id: str, method: str) -> Any:
    return await server.client.post(
        f"/v1/checkouts/{checkout_id}/confirm", json={"payment_method": method}
    )


async def test_a_confirm_by_api_charges_on_session_and_saves_the_card(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    confirmed = await _confirm(server, checkout["id"], "pm_card_visa")
    assert confirmed.status_code == 200, confirmed.text
    (intent,) = fake.objects("payment_intent")
    (customer,) = fake.objects("customer")
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 2000, "usd")
    assert intent["customer"] == customer["id"]
    assert intent["setup_future_usage"] == "off_session"
    assert fake.store.objects[intent["payment_method"]]["customer"] == customer["id"]
    async with server.runtime.engine.connect() as c:
        subscription = (await c.execute(select(t.subscriptions))).one()
    assert subscription.payment_method == intent["payment_method"]  # not the test token


async def test_a_declined_card_is_payment_failed_and_the_checkout_stays_open(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    declined = await _confirm(server, checkout["id"], "pm_card_chargeDeclined")
    body = problem(declined, 402, "payment_failed")
    assert body["detail"] == "Your card was declined."
    assert (await server.client.get(f"/v1/checkouts/{checkout['id']}")).json()["status"] == "open"
    assert (await _confirm(server, checkout["id"], "pm_card_visa")).status_code == 200
    assert [i["status"] for i in fake.objects("payment_intent")] == [
        "requires_payment_method",
        "succeeded",
    ]


async def test_a_method_that_is_no_stripe_id_is_refused_before_anything(server: Server) -> None:
    checkout = await _checkout(server)
    before = await row_counts(server.runtime)
    problem(await _confirm(server, checkout["id"], "card visa"), 422, "validation_error")
    assert await row_counts(server.runtime) == before


async def test_rate_limits_are_retried_and_the_charge_goes_through_once(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    fake.fail_next(2, 429)
    confirmed = await _confirm(server, checkout["id"], "pm_card_visa")
    assert confirmed.status_code == 200, confirmed.text
    # The first request (the customer) met two 429s and was retried; then the charge.
    assert fake.count("POST", "/v1/customers") == 3
    assert fake.count("POST", "/v1/payment_intents") == 1
    assert len(fake.objects("payment_intent")) == 1


async def test_stripe_down_answers_503_and_changes_nothing(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    await server.client.post("/checkout/{}/stripe".format(checkout["id"]))  # the customer exists
    before = await row_counts(server.runtime)
    fake.store.knobs.down = True
    down = await _confirm(server, checkout["id"], "pm_card_visa")
    problem(down, 503, "payment_provider_unavailable")
    assert await row_counts(server.runtime) == before
    fake.fail_next(4, 429)  # more 429s than are retried
    fake.store.knobs.down = False
    problem(
        await _confirm(server, checkout["id"], "pm_card_visa"), 503, "payment_provider_unavailable"
    )
    assert await row_counts(server.runtime) == before
    assert (await _confirm(server, checkout["id"], "pm_card_visa")).status_code == 200
    assert len(fake.objects("payment_intent")) == 1


async def test_an_answer_lost_after_the_charge_is_retried_under_the_same_key(
    server: Server, fake: FakeStripe
) -> None:
    checkout = await _checkout(server)
    fake.fail_next(1, 500, after=True)  # Stripe charged, then its answer was lost
    confirmed = await _confirm(server, checkout["id"], "pm_card_visa")
    assert confirmed.status_code == 200, confirmed.text
    (intent,) = fake.objects("payment_intent")  # the SDK's retry was answered the same one
    async with server.runtime.engine.connect() as c:
        payment = (await c.execute(select(t.payments))).one()
    assert payment.provider_reference == intent["id"]
