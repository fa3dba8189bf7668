"""A checkout confirmed by API with a card that needs 3-D Secure (SPEC §7): the answer is the
checkout, still open, with ``payment_url`` — Stripe's page where the buyer authenticates — and
the checkout completes once Stripe reports the payment succeeded (once, nothing charged twice);
a failed authentication leaves it open for another card."""

from __future__ import annotations

from typing import Any

import pytest

from seatledger.adapters.db import tables as t
from seatledger.services import hosted_checkout
from tests.e2e.api import problem
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events, settle

pytestmark = pytest.mark.db

CARD_3DS = "pm_card_authenticationRequired"


async def _checkout(server: Server) -> str:
    rt = server.runtime
    (price_id,) = await shop.product(rt)
    response = await server.client.post(
        "/v1/checkouts",
        json={"price_id": price_id, "seats": 2, "company_id": await shop.company(rt)},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _confirm(server: Server, checkout_id: str, method: str) -> Any:
    return await server.client.post(
        f"/v1/checkouts/{checkout_id}/confirm", json={"payment_method": method}
    )


async def test_a_card_needing_3ds_answers_the_link_and_completes_once_authenticated(
    server: Server, fake: FakeStripe
) -> None:
    checkout_id = await _checkout(server)

    waiting = await _confirm(server, checkout_id, CARD_3DS)

    assert waiting.status_code == 200, waiting.text
    body = waiting.json()
    (intent,) = fake.objects("payment_intent")
    assert intent["status"] == "requires_action"
    assert (body["status"], body["subscription_id"]) == ("open", None)
    assert body["payment_url"] == intent["next_action"]["redirect_to_url"]["url"]
    shown = (await server.client.get(f"/v1/checkouts/{checkout_id}")).json()
    assert shown["payment_url"] == body["payment_url"]
    # The same card again: the same payment and link; another card waits its turn.
    again = await _confirm(server, checkout_id, CARD_3DS)
    assert again.json()["payment_url"] == body["payment_url"]
    assert len(fake.objects("payment_intent")) == 1
    problem(await _confirm(server, checkout_id, "pm_card_visa"), 409, "checkout_not_open")

    assert (await fake.authenticate(intent["id"])).status_code == 200
    await settle(fake)
    await apply_events(server.runtime)
    await apply_events(server.runtime)  # a repeated round changes nothing

    done = (await server.client.get(f"/v1/checkouts/{checkout_id}")).json()
    assert (done["status"], done["payment_url"]) == ("completed", None)
    assert done["subscription_id"] is not None
    (invoice,) = (
        await server.client.get("/v1/invoices", params={"subscription_id": done["subscription_id"]})
    ).json()["data"]
    assert (invoice["status"], invoice["total"]) == ("paid", 2000)
    assert [i["status"] for i in fake.objects("payment_intent")] == ["succeeded"]
    assert await shop.count(server.runtime.engine, t.subscriptions) == 1


async def test_a_failed_authentication_leaves_the_checkout_open_for_another_card(
    server: Server, fake: FakeStripe
) -> None:
    checkout_id = await _checkout(server)
    assert (await _confirm(server, checkout_id, CARD_3DS)).status_code == 200
    (intent,) = fake.objects("payment_intent")

    assert (await fake.authenticate(intent["id"], "fail")).status_code == 200
    await settle(fake)
    await apply_events(server.runtime)

    shown = (await server.client.get(f"/v1/checkouts/{checkout_id}")).json()
    assert (shown["status"], shown["payment_url"]) == ("open", None)
    paid = await _confirm(server, checkout_id, "pm_card_visa")
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "completed"


async def test_a_3ds_charge_paid_after_the_hosted_page_paid_becomes_credit_once(
    server: Server, fake: FakeStripe
) -> None:
    rt = server.runtime
    checkout_id = await _checkout(server)
    assert (await _confirm(server, checkout_id, CARD_3DS)).status_code == 200
    (intent,) = fake.objects("payment_intent")
    # The buyer pays on Stripe's hosted page too, then finishes the authentication.
    await hosted_checkout.open_hosted_page(rt, checkout_id)
    (session,) = fake.objects("checkout.session")
    assert (await fake.complete_session(session["id"])).status_code == 200
    await settle(fake)
    await apply_events(rt)
    done = (await server.client.get(f"/v1/checkouts/{checkout_id}")).json()
    assert done["status"] == "completed"

    assert (await fake.authenticate(intent["id"])).status_code == 200
    await settle(fake)
    await apply_events(rt)
    await apply_events(rt)

    balance = (await server.client.get(f"/v1/companies/{done['company_id']}/balance")).json()
    assert balance["data"] == [{"currency": "usd", "amount": 2000}]
    assert await shop.count(rt.engine, t.subscriptions) == 1
