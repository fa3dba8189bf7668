"""A renewal below Stripe's minimum charge (SPEC §7), in ``payments`` mode: it is not sent to
fail as a PaymentIntent; as Stripe does with its own invoices, it is marked paid without a
charge and its total waits for the next invoice, which Stripe then charges in full."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.services import renewals
from seatledger.services.subscriptions import change_subscription
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server

pytestmark = pytest.mark.db


async def _renewals(server: Server) -> list[Any]:
    async with server.runtime.engine.connect() as c:
        query = (
            select(t.invoices)
            .where(t.invoices.c.reason == "subscription_cycle")
            .order_by(t.invoices.c.created_at)
        )
        return list((await c.execute(query)).all())


def _renewal_intents(fake: FakeStripe) -> list[dict[str, Any]]:
    return [
        i
        for i in fake.objects("payment_intent")
        if i["metadata"].get("seatledger_key", "").startswith("invoice:")
    ]


async def test_a_renewal_below_the_minimum_is_carried_to_the_next_invoice(
    server: Server, fake: FakeStripe, clock: FixedClock
) -> None:
    rt = server.runtime
    (price_id,) = await shop.product(rt, shop.per_seat(30), decrease="next_period")
    # 2 seats at 0.30 USD (0.60: chargeable), then 1 seat from the next period (0.30: not).
    sub_id = await shop.subscribe(
        rt, price_id, await shop.company(rt), 2, payment_method="pm_card_visa"
    )
    await change_subscription(rt, sub_id, seats=1, proration_behavior="next_period")
    subscription = await shop.rows(rt.engine, t.subscriptions)

    clock.set(subscription[0].current_period_end)
    assert await renewals.renew_due(rt) == [sub_id]

    (small,) = await _renewals(server)
    assert (small.status, small.total, small.payment_url) == ("paid", 30, None)
    assert _renewal_intents(fake) == []  # nothing sent to Stripe to fail
    assert await shop.waiting(rt.engine, sub_id) == [30]
    (row,) = await shop.rows(rt.engine, t.subscriptions)
    assert (row.status, row.payment_attempts) == ("active", 0)
    assert await shop.events(rt.engine, "invoice.payment_failed") == []

    clock.set(row.current_period_end)
    assert await renewals.renew_due(rt) == [sub_id]

    _, next_one = await _renewals(server)
    assert (next_one.status, next_one.total) == ("paid", 60)
    lines = await shop.rows(rt.engine, t.pending_lines, t.pending_lines.c.invoice_id == next_one.id)
    assert [(line.amount, line.description) for line in lines] == [
        (30, f"Carried over from {small.number}: below the minimum charge")
    ]
    (intent,) = _renewal_intents(fake)
    assert (intent["amount"], intent["status"]) == (60, "succeeded")
