"""Stripe's minimum charge and its currency units, in the adapter: a positive proration below
the minimum waits for the next invoice (SPEC §7); amounts go to Stripe in Stripe's units."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.services import renewals, subscriptions
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import FakeStripe
from tests.integration import shop

pytestmark = pytest.mark.db


async def test_a_proration_below_the_minimum_waits_for_the_next_invoice(
    stripe_runtime: Runtime, fake: FakeStripe, clock: FixedClock
) -> None:
    rt = stripe_runtime
    clock.set(shop.utc(2027, 1, 1))
    (price_id,) = await shop.product(rt)  # 1000 a seat a month, increases invoiced
    sub_id = await shop.subscribe(
        rt, price_id, await shop.company(rt), 2, payment_method="pm_card_visa"
    )
    clock.set(shop.utc(2027, 1, 31))  # 1 day of 31 left: one more seat is 32 cents now
    preview = await subscriptions.preview_change(rt, sub_id, seats=3)
    assert (preview.invoice_now, preview.amount_due_now) == (False, 0)
    changed = await subscriptions.change_subscription(rt, sub_id, seats=3)
    assert changed.seats == 3
    assert len(fake.objects("payment_intent")) == 1  # the checkout's; nothing charged now
    assert await shop.waiting(rt.engine, sub_id) == [32]
    changed = await subscriptions.change_subscription(rt, sub_id, seats=5)  # 65: charged now
    assert changed.seats == 5
    assert [i["amount"] for i in fake.objects("payment_intent")] == [2000, 65]
    clock.set(shop.utc(2027, 2, 1))
    await renewals.renew_due(rt)
    renewal = [i for i in await shop.invoices(rt, sub_id) if i.reason == "subscription_cycle"]
    assert [(i.total, i.status) for i in renewal] == [(5000 + 32, "paid")]


async def test_zero_decimal_and_special_currencies_go_out_in_stripes_units(
    stripe_runtime: Runtime, fake: FakeStripe
) -> None:
    rt = stripe_runtime
    company_id = await shop.company(rt)
    for currency, unit, stripe_amount in (("jpy", 500, 1500), ("isk", 900, 270000)):
        (price_id,) = await shop.product(rt, shop.per_seat(unit, currency=currency), name=currency)
        await shop.subscribe(rt, price_id, company_id, 3, payment_method="pm_card_visa")
        intent = fake.objects("payment_intent")[-1]
        assert (intent["currency"], intent["amount"]) == (currency, stripe_amount)
    async with rt.engine.connect() as c:
        amounts = (await c.execute(select(t.payments.c.amount, t.payments.c.currency))).all()
    assert sorted(amounts) == [(1500, "jpy"), (2700, "isk")]  # seatledger keeps ISO units
