"""Issue 4, item 9: the worked examples, to the minor unit, through the services (all times
00:00 UTC unless given)."""

from __future__ import annotations

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.services import purchases, renewals, subscriptions
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc


async def test_volume_tiers_through_two_changes_and_two_renewals(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(
        runtime, {"currency": "usd", "interval": "month", "tiers": shop.VOLUME}
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 3, at=utc(2027, 1, 1), clock=clock)
    [first] = await shop.invoices(runtime, sub_id)
    assert (first.total, first.status) == (3000, "paid")

    clock.set(utc(2027, 1, 16, 12))
    await subscriptions.change_subscription(runtime, sub_id, seats=8, proration_behavior="prorate")
    assert await shop.waiting(runtime.engine, sub_id) == [1700]
    [line] = await shop.rows(runtime.engine, t.pending_lines)
    assert line.description == "Seats 3 → 8, Jan 16 – Feb 1"

    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    february = (await shop.invoices(runtime, sub_id))[-1]
    assert [(x.kind, x.amount) for x in february.lines] == [("seats", 6400), ("proration", 1700)]
    assert (february.subtotal, february.credit_applied, february.total) == (8100, 0, 8100)
    assert (february.status, february.period_start, february.period_end) == (
        "paid",
        utc(2027, 2, 1),
        utc(2027, 3, 1),
    )

    clock.set(utc(2027, 2, 15))
    await subscriptions.change_subscription(runtime, sub_id, seats=4, proration_behavior="prorate")
    assert await shop.waiting(runtime.engine, sub_id) == [-1200]

    clock.set(utc(2027, 3, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    march = (await shop.invoices(runtime, sub_id))[-1]
    assert [(x.kind, x.amount) for x in march.lines] == [("seats", 4000), ("proration", -1200)]
    assert (march.subtotal, march.total, march.status) == (2800, 2800, "paid")


async def test_an_increase_invoiced_now_in_a_31_day_month(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime, shop.per_seat(1200))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime, price_id, company_id, 10, at=utc(2027, 3, 1), clock=clock
    )

    clock.set(utc(2027, 3, 11))
    changed = await subscriptions.change_subscription(
        runtime, sub_id, seats=15, proration_behavior="invoice"
    )
    assert changed.seats == 15
    update = (await shop.invoices(runtime, sub_id))[-1]
    assert update.reason == "subscription_update"
    assert [(x.kind, x.description, x.amount) for x in update.lines] == [
        ("proration", "Seats 10 → 15, Mar 11 – Apr 1", 4065)
    ]
    assert (update.total, update.status) == (4065, "paid")
    [payment] = await shop.rows(runtime.engine, t.payments, t.payments.c.invoice_id == update.id)
    assert (payment.amount, payment.status) == (4065, "succeeded")
    assert await shop.waiting(runtime.engine, sub_id) == []


async def test_monthly_to_annual_credits_unused_time_and_moves_the_anchor(
    runtime: Runtime, clock: FixedClock
) -> None:
    monthly, annual = await shop.product(runtime, shop.per_seat(1000), shop.per_seat(10000, "year"))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, monthly, company_id, 5, at=utc(2027, 4, 1), clock=clock)

    clock.set(utc(2027, 4, 16))
    switched = await subscriptions.change_subscription(runtime, sub_id, price_id=annual)
    switch = (await shop.invoices(runtime, sub_id))[-1]
    assert [(x.kind, x.amount) for x in switch.lines] == [("credit", -2500), ("seats", 50000)]
    assert (switch.subtotal, switch.total, switch.status) == (47500, 47500, "paid")
    assert (switched.price_id, switched.seats) == (annual, 5)
    assert (switched.billing_anchor, switched.current_period_start) == (
        utc(2027, 4, 16),
        utc(2027, 4, 16),
    )
    assert switched.current_period_end == utc(2028, 4, 16)

    clock.set(utc(2028, 4, 15))
    assert await renewals.renew_due(runtime) == []
    clock.set(utc(2028, 4, 16))
    assert await renewals.renew_due(runtime) == [sub_id]
    renewal = (await shop.invoices(runtime, sub_id))[-1]
    assert (renewal.total, renewal.period_start, renewal.period_end) == (
        50000,
        utc(2028, 4, 16),
        utc(2029, 4, 16),
    )
    assert (await purchases.get_subscription(runtime, sub_id)).current_period_end == utc(
        2029, 4, 16
    )
