"""True-up billing through the services: rises applied now and billed at renewal (or at the end
of their quarter) for the time held, decreases waiting for the renewal, cancellations."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.invoice import Invoice
from seatledger.domain.purchase import PendingChange
from seatledger.pricing import div_round_half_even
from seatledger.services import (
    cancellation,
    catalog,
    purchases,
    renewals,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime
from tests.integration import renewal_crashes as crashes
from tests.integration import shop
from tests.integration.shop import utc


def held(amount: int, start: datetime, end: datetime, period: tuple[datetime, datetime]) -> int:
    """``amount`` × the share of ``period`` from ``start`` to ``end``, rounded half to even."""
    share = Fraction(
        int((end - start).total_seconds()), int((period[1] - period[0]).total_seconds())
    )
    exact = amount * share
    return div_round_half_even(exact.numerator, exact.denominator)


async def true_up_product(runtime: Runtime, *prices: dict[str, Any], **defaults: Any) -> str:
    created = await catalog.create_product(
        runtime,
        name="Team plan",
        prices=list(prices) or [shop.per_seat(1000)],
        proration_defaults={"increase": "true_up", **defaults},
    )
    return created.prices[0].id


def lines_of(invoice: Invoice) -> list[tuple[str, int, int, int]]:
    return [(x.description, x.quantity, x.unit_amount, x.amount) for x in invoice.lines]


async def unbilled(runtime: Runtime, subscription_id: str) -> int:
    return await shop.count(
        runtime.engine,
        t.true_ups,
        t.true_ups.c.subscription_id == subscription_id,
        t.true_ups.c.invoice_id.is_(None),
    )


JANUARY = (utc(2027, 1, 1), utc(2027, 2, 1))


@pytest.fixture
async def monthly(runtime: Runtime, clock: FixedClock) -> str:
    """3 seats at 1000 a seat a month, trued up, bought on 2027-01-01."""
    price_id = await true_up_product(runtime)
    company_id = await shop.company(runtime)
    return await shop.subscribe(runtime, price_id, company_id, 3, at=utc(2027, 1, 1), clock=clock)


async def test_a_product_takes_true_up_and_decreases_wait(runtime: Runtime) -> None:
    price_id = await true_up_product(runtime)
    price = await catalog.get_price(runtime, price_id)
    product = await catalog.get_product(runtime, price.product_id)
    assert (product.proration_increase, product.proration_decrease) == ("true_up", "next_period")
    assert product.true_up_interval is None


@pytest.mark.parametrize(
    ("defaults", "field"),
    [
        ({"increase": "true_up", "decrease": "prorate"}, "proration_defaults.decrease"),
        ({"decrease": "true_up"}, "proration_defaults.decrease"),
        (
            {"increase": "invoice", "true_up_interval": "quarter"},
            "proration_defaults.true_up_interval",
        ),
        (
            {"increase": "true_up", "true_up_interval": "month"},
            "proration_defaults.true_up_interval",
        ),
    ],
)
async def test_refused_defaults_name_their_field(
    runtime: Runtime, defaults: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await catalog.create_product(
            runtime,
            name="Team plan",
            prices=[shop.per_seat(12000, "year")],
            proration_defaults=defaults,
        )
    assert [e[0] for e in refused.value.errors] == [field]


async def test_quarterly_true_up_needs_yearly_prices(runtime: Runtime) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await true_up_product(runtime, shop.per_seat(1000), true_up_interval="quarter")
    assert [e[0] for e in refused.value.errors] == ["proration_defaults.true_up_interval"]


async def test_a_rise_applies_now_and_bills_nothing_now(
    runtime: Runtime, clock: FixedClock, monthly: str
) -> None:
    clock.set(utc(2027, 1, 16, 12))
    preview = await subscriptions.preview_change(runtime, monthly, seats=5)
    assert (preview.proration_behavior, preview.invoice_now, preview.amount_due_now) == (
        "true_up",
        False,
        0,
    )
    assert [(x.description, x.quantity, x.amount) for x in preview.lines] == [
        ("Seats 3 → 5, Jan 16 – Feb 1", 2, 1000)
    ]
    sub = await subscriptions.change_subscription(runtime, monthly, seats=5)
    assert sub.seats == 5
    assert len(await shop.invoices(runtime, monthly)) == 1  # the checkout's only
    assert await shop.waiting(runtime.engine, monthly) == []
    assert await unbilled(runtime, monthly) == 1


async def test_3_6_4_7_bills_the_peak_at_renewal(
    runtime: Runtime, clock: FixedClock, monthly: str
) -> None:
    clock.set(utc(2027, 1, 16, 12))
    await subscriptions.change_subscription(runtime, monthly, seats=6)
    clock.set(utc(2027, 1, 20))
    down = await subscriptions.change_subscription(runtime, monthly, seats=4)
    # The decrease waits for the renewal: the seats stay at the peak, nothing is credited.
    assert down.seats == 6
    assert down.pending_change == PendingChange(4, down.price_id, utc(2027, 2, 1))
    clock.set(utc(2027, 1, 24))
    up = await subscriptions.change_subscription(runtime, monthly, seats=7)
    assert (up.seats, up.pending_change) == (7, None)

    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [monthly]
    renewal = (await shop.invoices(runtime, monthly))[-1]
    first = held(3 * 1000, utc(2027, 1, 16, 12), JANUARY[1], JANUARY)
    second = held(1 * 1000, utc(2027, 1, 24), JANUARY[1], JANUARY)
    assert (first, second) == (1500, 258)
    assert lines_of(renewal) == [
        ("Seats 1–7 (tier 1)", 7, 1000, 7000),
        ("Seats 3 → 6, Jan 16 – Feb 1", 3, 500, first),
        ("Seats 6 → 7, Jan 24 – Feb 1", 1, 258, second),
    ]
    assert (renewal.reason, renewal.total) == ("subscription_cycle", 7000 + 1500 + 258)
    assert await unbilled(runtime, monthly) == 0
    # Exactly once: the next renewal bills the period alone.
    clock.set(utc(2027, 3, 1))
    await renewals.renew_due(runtime)
    assert lines_of((await shop.invoices(runtime, monthly))[-1]) == [
        ("Seats 1–7 (tier 1)", 7, 1000, 7000)
    ]


async def test_3_6_4_renews_at_4_and_bills_3_to_6(
    runtime: Runtime, clock: FixedClock, monthly: str
) -> None:
    clock.set(utc(2027, 1, 16, 12))
    await subscriptions.change_subscription(runtime, monthly, seats=6)
    clock.set(utc(2027, 1, 20))
    await subscriptions.change_subscription(runtime, monthly, seats=4)
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    sub = await purchases.get_subscription(runtime, monthly)
    assert sub.seats == 4
    renewal = (await shop.invoices(runtime, monthly))[-1]
    assert lines_of(renewal) == [
        ("Seats 1–4 (tier 1)", 4, 1000, 4000),
        ("Seats 3 → 6, Jan 16 – Feb 1", 3, 500, 1500),
    ]


async def test_a_later_rise_below_the_peak_adds_no_line(
    runtime: Runtime, clock: FixedClock, monthly: str
) -> None:
    clock.set(utc(2027, 1, 10))
    await subscriptions.change_subscription(runtime, monthly, seats=6)
    clock.set(utc(2027, 1, 12))
    await subscriptions.change_subscription(runtime, monthly, seats=4)
    clock.set(utc(2027, 1, 14))
    after = await subscriptions.change_subscription(runtime, monthly, seats=5)
    assert (after.seats, after.pending_change) == (6, PendingChange(5, after.price_id, JANUARY[1]))
    assert await unbilled(runtime, monthly) == 1


async def test_an_explicit_true_up_on_an_invoice_product(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 3, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16, 12))
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=5, proration_behavior="true_up"
    )
    assert sub.seats == 5
    assert len(await shop.invoices(runtime, sub_id)) == 1
    # A true-up asked for a decrease waits for the renewal, with no credit.
    down = await subscriptions.change_subscription(
        runtime, sub_id, seats=4, proration_behavior="true_up"
    )
    assert (down.seats, down.pending_change) == (5, PendingChange(4, price_id, JANUARY[1]))
    assert await shop.waiting(runtime.engine, sub_id) == []


async def test_a_price_change_cannot_be_trued_up(runtime: Runtime, clock: FixedClock) -> None:
    first, second = await shop.product(runtime, shop.per_seat(1000), shop.per_seat(1200))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, first, company_id, 3, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16, 12))
    with pytest.raises(ValidationFailed) as refused:
        await subscriptions.change_subscription(
            runtime, sub_id, price_id=second, proration_behavior="true_up"
        )
    assert [e[0] for e in refused.value.errors] == ["proration_behavior"]


async def test_cancel_at_period_end_bills_the_true_up_on_a_final_invoice(
    runtime: Runtime, clock: FixedClock, monthly: str
) -> None:
    clock.set(utc(2027, 1, 16, 12))
    await subscriptions.change_subscription(runtime, monthly, seats=6)
    await cancellation.cancel_subscription(runtime, monthly, at_period_end=True)
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    final = (await shop.invoices(runtime, monthly))[-1]
    assert (final.reason, final.total) == ("subscription_cancel", 1500)
    assert lines_of(final) == [("Seats 3 → 6, Jan 16 – Feb 1", 3, 500, 1500)]
    assert await unbilled(runtime, monthly) == 0


async def test_cancel_now_bills_the_true_up_to_now(
    runtime: Runtime, clock: FixedClock, monthly: str
) -> None:
    clock.set(utc(2027, 1, 16, 12))
    await subscriptions.change_subscription(runtime, monthly, seats=6)
    clock.set(utc(2027, 1, 24))
    await cancellation.cancel_subscription(runtime, monthly, at_period_end=False)
    final = (await shop.invoices(runtime, monthly))[-1]
    expected = held(3000, utc(2027, 1, 16, 12), utc(2027, 1, 24), JANUARY)
    assert expected == 726
    assert (final.reason, final.total) == ("subscription_cancel", expected)
    assert lines_of(final) == [("Seats 3 → 6, Jan 16 – Jan 24", 3, 242, expected)]
    assert await unbilled(runtime, monthly) == 0


YEAR = (utc(2027, 1, 1), utc(2028, 1, 1))


async def test_annual_true_up_is_billed_each_quarter_once(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await true_up_product(
        runtime, shop.per_seat(12000, "year"), true_up_interval="quarter"
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=YEAR[0], clock=clock)
    clock.set(utc(2027, 2, 15))
    await subscriptions.change_subscription(runtime, sub_id, seats=8)
    clock.set(utc(2027, 3, 31, 23, 59, 59))
    await renewals.renew_due(runtime)
    assert len(await shop.invoices(runtime, sub_id)) == 1  # the quarter has not ended

    clock.set(utc(2027, 4, 1))
    await renewals.renew_due(runtime)
    await renewals.renew_due(runtime)  # again: nothing more
    invoices = await shop.invoices(runtime, sub_id)
    assert len(invoices) == 2
    quarter = invoices[-1]
    first = held(3 * 12000, utc(2027, 2, 15), YEAR[1], YEAR)
    assert first == 31562
    assert (quarter.reason, quarter.status, quarter.total) == ("subscription_update", "paid", first)
    assert lines_of(quarter) == [("Seats 5 → 8, Feb 15, 2027 – Jan 1, 2028", 3, 10521, first)]
    assert (quarter.period_start, quarter.period_end) == (utc(2027, 2, 15), utc(2027, 4, 1))

    clock.set(utc(2027, 8, 1))
    await subscriptions.change_subscription(runtime, sub_id, seats=10)
    clock.set(utc(2028, 1, 1))
    await renewals.renew_due(runtime)
    invoices = await shop.invoices(runtime, sub_id)
    third = held(2 * 12000, utc(2027, 8, 1), YEAR[1], YEAR)
    assert third == 10060
    assert [(i.reason, i.total) for i in invoices[2:]] == [
        ("subscription_update", third),  # at Oct 1
        ("subscription_cycle", 10 * 12000),
    ]
    assert invoices[2].period_end == utc(2027, 10, 1)
    assert await unbilled(runtime, sub_id) == 0


async def test_a_rise_in_the_last_quarter_waits_for_the_renewal(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await true_up_product(
        runtime, shop.per_seat(12000, "year"), true_up_interval="quarter"
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=YEAR[0], clock=clock)
    clock.set(utc(2027, 11, 1))
    await subscriptions.change_subscription(runtime, sub_id, seats=6)
    clock.set(utc(2028, 1, 1))
    await renewals.renew_due(runtime)
    invoices = await shop.invoices(runtime, sub_id)
    rise = held(12000, utc(2027, 11, 1), YEAR[1], YEAR)
    assert [(i.reason, i.total) for i in invoices[1:]] == [("subscription_cycle", 72000 + rise)]


async def test_a_members_pool_grows_under_true_up_and_keeps_its_peak(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await true_up_product(runtime, shop.per_seat(1000, seat_sync="members"))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 1, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16, 12))
    a = await seats.assign_seat(runtime, subscription_id=sub_id, email="a@acme.test")
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 2
    assert len(await shop.invoices(runtime, sub_id)) == 1  # nothing charged at the invitation
    clock.set(utc(2027, 1, 20))
    await seats.revoke_seat(runtime, a.id)
    # The pool keeps its peak: the seat is free again, nothing is credited.
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.seats, sub.assigned_seats) == (2, 1)
    clock.set(utc(2027, 1, 24))
    await seats.assign_seat(runtime, subscription_id=sub_id, email="b@acme.test")  # the free one
    await seats.assign_seat(runtime, subscription_id=sub_id, email="c@acme.test")  # a rise
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 3
    assert await shop.waiting(runtime.engine, sub_id) == []
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    renewal = (await shop.invoices(runtime, sub_id))[-1]
    assert lines_of(renewal) == [
        ("Seats 1–3 (tier 1)", 3, 1000, 3000),
        ("Seats 1 → 2, Jan 16 – Feb 1", 1, 500, 500),
        ("Seats 2 → 3, Jan 24 – Feb 1", 1, 258, 258),
    ]


async def test_a_quarterly_product_takes_no_monthly_price(runtime: Runtime) -> None:
    price_id = await true_up_product(
        runtime, shop.per_seat(12000, "year"), true_up_interval="quarter"
    )
    product_id = (await catalog.get_price(runtime, price_id)).product_id
    with pytest.raises(ValidationFailed) as refused:
        await catalog.add_price(runtime, product_id, shop.per_seat(1000))
    assert [e[0] for e in refused.value.errors] == ["interval"]
    added = await catalog.add_price(runtime, product_id, shop.per_seat(13000, "year"))
    assert added.version == 2


async def test_a_declined_quarter_is_past_due_and_retried(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await true_up_product(
        runtime, shop.per_seat(12000, "year"), true_up_interval="quarter"
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime,
        price_id,
        company_id,
        5,
        at=YEAR[0],
        clock=clock,
        payment_method="pm_card_fail_after_first",
    )
    clock.set(utc(2027, 2, 15))
    await subscriptions.change_subscription(runtime, sub_id, seats=8)
    clock.set(utc(2027, 4, 1))
    await renewals.renew_due(runtime)
    quarter = (await shop.invoices(runtime, sub_id))[-1]
    assert (quarter.reason, quarter.status, quarter.total) == ("subscription_update", "open", 31562)
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.next_payment_attempt_at) == ("past_due", utc(2027, 4, 2))
    clock.set(utc(2027, 4, 2))
    await renewals.renew_due(runtime)
    assert len(await shop.invoices(runtime, sub_id)) == 2  # retried, not billed again
    assert (await purchases.get_subscription(runtime, sub_id)).payment_attempts == 2


@pytest.mark.parametrize("fault", ["true_up_quarter_invoiced", "true_up_quarter_committed"])
async def test_a_worker_killed_while_billing_a_quarter_bills_it_once(
    runtime: Runtime, clock: FixedClock, database_url: str, tmp_path: Path, fault: str
) -> None:
    price_id = await true_up_product(
        runtime, shop.per_seat(12000, "year"), true_up_interval="quarter"
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=YEAR[0], clock=clock)
    clock.set(utc(2027, 2, 15))
    await subscriptions.change_subscription(runtime, sub_id, seats=8)
    await crashes.move_clock(runtime.engine, utc(2027, 4, 1))
    log = tmp_path / "worker.log"
    tally = crashes.Tally()
    died = await crashes.kill_once(runtime.engine, database_url, log, ("fault", fault, 0.0), tally)
    assert died, log.read_text()
    crashes.finish(database_url, log, tally)

    invoices = await shop.invoices(runtime, sub_id)
    assert [(i.reason, i.status, i.total) for i in invoices[1:]] == [
        ("subscription_update", "paid", 31562)
    ]
    paid = await shop.rows(
        runtime.engine,
        t.payments,
        t.payments.c.invoice_id == invoices[1].id,
        t.payments.c.status == "succeeded",
    )
    assert len(paid) == 1
    assert await unbilled(runtime, sub_id) == 0
