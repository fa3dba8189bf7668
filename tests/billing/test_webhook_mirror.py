"""Stripe's subscription events mirrored through ``POST /v1/stripe/webhooks`` (billing mode):
verified, kept once per id, applied by the delivery round from the subscription read again
from Stripe — so events delivered out of order and twice converge on Stripe's current state;
and seatledger's own renewal run leaves a subscription Stripe bills alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.clock import FixedClock
from seatledger.services import provider_subscriptions, purchases, renewals, seats
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events

pytestmark = pytest.mark.db


async def _billed(runtime: Runtime, billing: StripeBilling, customer: str) -> tuple[str, str]:
    (price_id,) = await shop.product(runtime, shop.per_seat(1000))
    sub_id = await shop.subscribe(runtime, price_id, await shop.company(runtime), 5)
    for n in range(3):
        await seats.assign_seat(runtime, subscription_id=sub_id, email=f"p{n}@acme.test")
    remote = await provider_subscriptions.start_billing(runtime, billing, sub_id, customer=customer)
    return sub_id, remote.id


async def test_events_out_of_order_and_twice_converge_on_stripes_state(
    server: Server, runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    server.runtime.billing = billing
    fake.hold_events()
    sub_id, provider_id = await _billed(runtime, billing, customer)
    item = (await billing.subscription(provider_id)).items[0]
    client = billing.client.v1.subscriptions
    await client.update_async(provider_id, {"cancel_at_period_end": True})
    await client.update_async(
        provider_id, {"items": [{"id": item.id, "quantity": 2}], "proration_behavior": "none"}
    )
    await client.update_async(
        provider_id, {"items": [{"id": item.id, "quantity": 4}], "proration_behavior": "none"}
    )

    statuses = await fake.deliver(
        ("customer.subscription.created", "customer.subscription.updated"),
        reverse=True,
        twice=True,
    )
    assert statuses == [200] * 8
    await apply_events(server.runtime)

    subscription = await purchases.get_subscription(runtime, sub_id)
    assert (subscription.seats, subscription.cancel_at_period_end) == (4, True)
    remote = await billing.subscription(provider_id)
    assert subscription.current_period_end == remote.period_end
    # The snapshots said 2 seats and 5 seats; Stripe says 4 now: no drift was ever seen.
    assert await shop.events(runtime.engine, "subscription.seats_drift_detected") == []
    kept = await shop.count(
        runtime.engine, t.provider_events, t.provider_events.c.type.like("customer.subscription.%")
    )
    assert kept == 4  # each event id kept once


async def test_a_cancellation_in_stripe_arrives_by_webhook(
    server: Server, runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    server.runtime.billing = billing
    fake.hold_events()
    sub_id, provider_id = await _billed(runtime, billing, customer)
    await billing.client.v1.subscriptions.cancel_async(provider_id)

    assert await fake.deliver(("customer.subscription.deleted",)) == [200]
    await apply_events(server.runtime)

    subscription = await purchases.get_subscription(runtime, sub_id)
    assert (subscription.status, subscription.assigned_seats) == ("canceled", 0)


async def test_past_due_in_stripe_is_mirrored(
    server: Server, runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    server.runtime.billing = billing
    fake.hold_events()
    sub_id, provider_id = await _billed(runtime, billing, customer)
    fake.store.objects[provider_id]["status"] = "past_due"  # Stripe's dunning, by its clock
    fake.store.emit("customer.subscription.updated", fake.store.objects[provider_id])

    await fake.deliver(("customer.subscription.updated",))
    await apply_events(server.runtime)

    assert (await purchases.get_subscription(runtime, sub_id)).status == "past_due"
    (event,) = await shop.events(runtime.engine, "subscription.past_due")
    assert event["id"] == sub_id


async def test_seatledger_does_not_renew_what_stripe_bills(
    runtime: Runtime, billing: StripeBilling, customer: str, clock: FixedClock
) -> None:
    sub_id, _ = await _billed(runtime, billing, customer)
    (own_price,) = await shop.product(runtime, shop.per_seat(500), name="Own")
    own_id = await shop.subscribe(runtime, own_price, await shop.company(runtime, "x@y.test"), 1)
    clock.advance(timedelta(days=40))

    done = await renewals.run_due(runtime)

    assert set(done.renewed) == {own_id}
    assert [i.reason for i in await shop.invoices(runtime, sub_id)] == ["subscription_create"]
