"""Seat counts that move without a PATCH (members mode, SPEC §5) reach Stripe through the
outbox, coalesced: a burst is one update, at most one per ``SEATLEDGER_STRIPE_SYNC_SECONDS``
and 200 an hour per subscription; Stripe down loses nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.bootstrap import delivery_channels
from seatledger.domain.clock import FixedClock
from seatledger.services import delivery, provider_subscriptions, seats
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import FakeStripe
from tests.integration import shop

pytestmark = pytest.mark.db


async def _members(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> tuple[Runtime, str, str]:
    rt = replace(runtime, billing=billing)
    (price_id,) = await shop.product(rt, shop.per_seat(1000, seat_sync="members"), name="Chat")
    sub_id = await shop.subscribe(rt, price_id, await shop.company(rt), 1)
    remote = await provider_subscriptions.start_billing(rt, billing, sub_id, customer=customer)
    await delivery.run_round(rt, delivery_channels(rt))  # the purchase's own events
    return rt, sub_id, remote.id


async def _updates(fake: FakeStripe, provider_id: str) -> int:
    return fake.count("POST", f"/v1/subscriptions/{provider_id}")


async def _quantity(billing: StripeBilling, provider_id: str) -> int:
    return (await billing.subscription(provider_id)).items[0].quantity


async def _grow(rt: Runtime, sub_id: str, first: int, count: int) -> None:
    for n in range(first, first + count):
        await seats.assign_seat(rt, subscription_id=sub_id, email=f"p{n}@acme.test")


async def test_a_burst_of_members_is_one_update_then_one_per_sync_interval(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe, clock: FixedClock
) -> None:
    rt, sub_id, provider_id = await _members(runtime, billing, customer)
    start = await _updates(fake, provider_id)
    await _grow(rt, sub_id, 0, 6)  # 1 seat (the manager's) → 7

    await delivery.run_round(rt, delivery_channels(rt))

    assert await _updates(fake, provider_id) == start + 1
    assert await _quantity(billing, provider_id) == 7
    await _grow(rt, sub_id, 6, 2)
    await delivery.run_round(rt, delivery_channels(rt))
    assert await _updates(fake, provider_id) == start + 1  # within 10 seconds: waits
    clock.advance(timedelta(seconds=10))
    await delivery.run_round(rt, delivery_channels(rt))
    assert await _updates(fake, provider_id) == start + 2
    assert await _quantity(billing, provider_id) == 9


async def test_no_more_than_200_updates_an_hour(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe, clock: FixedClock
) -> None:
    rt, sub_id, provider_id = await _members(runtime, billing, customer)
    async with rt.engine.begin() as c:
        await c.execute(
            update(t.provider_subscriptions).values(
                window_start=clock.now() - timedelta(minutes=30), window_pushes=200
            )
        )
    start = await _updates(fake, provider_id)
    await _grow(rt, sub_id, 0, 1)

    await delivery.run_round(rt, delivery_channels(rt))
    clock.advance(timedelta(minutes=29))
    await delivery.run_round(rt, delivery_channels(rt))
    assert await _updates(fake, provider_id) == start
    clock.advance(timedelta(minutes=1))
    await delivery.run_round(rt, delivery_channels(rt))
    assert await _updates(fake, provider_id) == start + 1
    assert await _quantity(billing, provider_id) == 2


async def test_stripe_down_loses_no_push(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe, clock: FixedClock
) -> None:
    rt, sub_id, provider_id = await _members(runtime, billing, customer)
    await _grow(rt, sub_id, 0, 3)
    fake.store.knobs.down = True
    await delivery.run_round(rt, delivery_channels(rt))
    fake.store.knobs.down = False
    assert await _quantity(billing, provider_id) == 1

    clock.advance(timedelta(seconds=60))
    await delivery.run_round(rt, delivery_channels(rt))

    assert await _quantity(billing, provider_id) == 4


async def test_what_reconciliation_took_from_stripe_is_not_pushed_back(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe, clock: FixedClock
) -> None:
    from seatledger.services.provider_reconciliation import reconcile

    rt, sub_id, provider_id = await _members(runtime, billing, customer)
    await _grow(rt, sub_id, 0, 3)
    await delivery.run_round(rt, delivery_channels(rt))
    assert await _quantity(billing, provider_id) == 4
    item = (await billing.subscription(provider_id)).items[0]
    await billing.client.v1.subscriptions.update_async(
        provider_id, {"items": [{"id": item.id, "quantity": 9}], "proration_behavior": "none"}
    )
    await reconcile(rt, billing)  # 9 seats taken from Stripe
    clock.advance(timedelta(seconds=30))
    updates = await _updates(fake, provider_id)

    await delivery.run_round(rt, delivery_channels(rt))

    assert await _updates(fake, provider_id) == updates
    assert await _quantity(billing, provider_id) == 9
