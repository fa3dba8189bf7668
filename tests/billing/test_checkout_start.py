"""A checkout completed in ``billing`` mode starts Stripe's subscription (SPEC §7): the checkout
pays the first period, the delivery round makes Stripe's subscription with the price's Stripe
Prices at the seats' quantities, anchored at the end of that period (nothing charged twice),
and mirrors it here — once, whatever fails between the checkout's commit and Stripe's answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.provider_billing import ProviderSubscriptions
from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.clock import FixedClock
from seatledger.services import purchases
from tests.fakes.stripe import FakeStripe
from tests.fakes.stripe.invoices import subscription_of
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events

pytestmark = pytest.mark.db

# A base fee of 2900 covering 2 seats, then 1000 a seat: 5 seats cost 5900 a month.
PRICE = shop.per_seat(1000, base_amount=2900, included_seats=2)


async def _bought(server: Server, billing: StripeBilling, seats: int = 5) -> dict[str, Any]:
    """A company buys ``seats`` through the API in ``billing`` mode; answers the checkout."""
    server.runtime.billing = billing
    rt = server.runtime
    (price_id,) = await shop.product(rt, PRICE)
    company_id = await shop.company(rt)
    created = await server.client.post(
        "/v1/checkouts", json={"price_id": price_id, "seats": seats, "company_id": company_id}
    )
    assert created.status_code == 201, created.text
    confirmed = await server.client.post(
        f"/v1/checkouts/{created.json()['id']}/confirm", json={"payment_method": "pm_card_visa"}
    )
    assert confirmed.status_code == 200, confirmed.text
    body: dict[str, Any] = {**created.json(), **confirmed.json()}
    return body


async def test_a_checkout_in_billing_mode_ends_with_a_stripe_subscription_mirrored_here(
    server: Server, billing: StripeBilling, fake: FakeStripe
) -> None:
    checkout = await _bought(server, billing)
    assert checkout["amount_due"] == 5900
    assert fake.objects("subscription") == []  # made after the checkout's commit

    await apply_events(server.runtime)

    (remote,) = fake.objects("subscription")
    (intent,) = fake.objects("payment_intent")
    prices = await billing.prices.find(await _price_of(server, checkout))
    assert prices is not None
    items = {item["price"]["id"]: item["quantity"] for item in remote["items"]["data"]}
    assert items == {prices.base: 1, prices.seats: 3}  # the base covers 2 of the 5 seats
    assert remote["customer"] == intent["customer"]
    assert remote["default_payment_method"] == intent["payment_method"]
    assert remote["metadata"]["seatledger_subscription_id"] == checkout["subscription_id"]
    # The checkout paid the first period: Stripe's first invoice is for nothing.
    (first,) = [i for i in fake.objects("invoice") if subscription_of(i) == remote["id"]]
    assert first["total"] == 0
    assert intent["amount"] == 5900

    mirrored = (await server.client.get(f"/v1/subscriptions/{checkout['subscription_id']}")).json()
    state = await billing.subscription(remote["id"])
    assert (mirrored["status"], mirrored["seats"]) == ("active", 5)
    assert mirrored["current_period_end"] == _iso(state.period_end)
    assert remote["billing_cycle_anchor"] == remote["items"]["data"][0]["current_period_end"]

    await apply_events(server.runtime)  # another round starts nothing again
    assert len(fake.objects("subscription")) == 1


async def test_a_start_while_stripe_is_down_is_made_on_a_later_round_once(
    server: Server, billing: StripeBilling, fake: FakeStripe, clock: FixedClock
) -> None:
    checkout = await _bought(server, billing)
    fake.store.knobs.down = True
    await apply_events(server.runtime)
    fake.store.knobs.down = False
    assert fake.objects("subscription") == []
    links = ProviderSubscriptions(server.runtime.engine, "stripe")
    assert await links.of(checkout["subscription_id"]) is None
    (waiting,) = await shop.rows(server.runtime.engine, t.provider_starts)
    assert (waiting.attempts, waiting.started_at) == (1, None)
    assert waiting.last_error.startswith("PaymentProviderUnavailable")

    await apply_events(server.runtime)  # not due yet: nothing is asked
    assert fake.objects("subscription") == []
    clock.advance(timedelta(seconds=61))
    await apply_events(server.runtime)
    await apply_events(server.runtime)

    (remote,) = fake.objects("subscription")
    link = await links.of(checkout["subscription_id"])
    assert link is not None
    assert link.provider_subscription_id == remote["id"]
    (done,) = await shop.rows(server.runtime.engine, t.provider_starts)
    assert done.start_after is None
    assert done.started_at is not None
    # The anchor fixed at the first attempt is the one Stripe got.
    assert remote["billing_cycle_anchor"] == int(waiting.anchor.timestamp())


async def test_a_checkout_in_payments_mode_starts_nothing_in_stripe(
    server: Server, fake: FakeStripe
) -> None:
    rt = server.runtime
    (price_id,) = await shop.product(rt, PRICE)
    sub_id = await shop.subscribe(
        rt, price_id, await shop.company(rt), 3, payment_method="pm_card_visa"
    )
    await apply_events(rt)
    assert fake.objects("subscription") == []
    assert await shop.rows(rt.engine, t.provider_starts) == []
    assert (await purchases.get_subscription(rt, sub_id)).status == "active"


async def _price_of(server: Server, checkout: dict[str, Any]) -> str:
    subscription = await purchases.get_subscription(server.runtime, checkout["subscription_id"])
    return subscription.price_id


def _iso(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
