"""Free trials (``trial_days``): a checkout that charges nothing but checks the card, a
``trialing`` subscription whose first period is the trial (invoiced at 0), seats usable during
it, changes and cancellations that cost nothing, and the trial's end billed as a renewal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import PaymentFailed, ValidationFailed
from seatledger.pricing import InvalidPrice
from seatledger.services import (
    cancellation,
    catalog,
    checkouts,
    claims,
    entitlements,
    purchases,
    renewals,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc
from tests.model.invariants import check_periods, snapshot

START = utc(2027, 1, 10, 9)
TRIAL_END = utc(2027, 1, 24, 9)  # 14 days later


async def _trial(runtime: Runtime, clock: FixedClock, **more: Any) -> tuple[str, str]:
    """A company and a 14-day trial price of 1000 a seat a month; answers both ids."""
    clock.set(START)
    (price_id,) = await shop.product(runtime, shop.per_seat(1000, trial_days=14, **more))
    return price_id, await shop.company(runtime)


async def _cancel(runtime: Runtime, sub_id: str, at_period_end: bool) -> None:
    await cancellation.cancel_subscription(runtime, sub_id, at_period_end=at_period_end)


def _lines(invoice: Any) -> list[tuple[str, str, int, int, int]]:
    return [(x.kind, x.description, x.quantity, x.unit_amount, x.amount) for x in invoice.lines]


async def test_a_trial_price_shows_its_days_and_a_one_time_price_has_none(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, _ = await _trial(runtime, clock)
    price = await catalog.get_price(runtime, price_id)
    assert price.seat_price.trial_days == 14
    assert price.seat_price.to_mapping()["trial_days"] == 14
    with pytest.raises(InvalidPrice) as caught:
        await shop.product(runtime, shop.per_seat(1000, None, trial_days=7), name="Once")
    assert caught.value.errors == (
        ("prices[0].trial_days", "a one-time price has no trial: an order is paid when bought"),
    )
    for days in (0, 731, "7", True):
        with pytest.raises(InvalidPrice) as caught:
            await shop.product(runtime, shop.per_seat(1000, trial_days=days), name="Bad")
        assert [field for field, _ in caught.value.errors] == ["prices[0].trial_days"]


async def test_a_trial_checkout_charges_nothing_and_makes_a_trialing_subscription(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=3, company_id=company_id
    )
    assert (checkout.amount_due, checkout.trial_days, checkout.amount_after_trial) == (0, 14, 3000)
    checkout = await checkouts.update_checkout(runtime, checkout.id, seats=4)
    assert (checkout.amount_due, checkout.amount_after_trial) == (0, 4000)

    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    sub = await purchases.get_subscription(runtime, done.subscription_id)
    assert (sub.status, sub.seats, sub.trial_end, sub.payment_method) == (
        "trialing",
        4,
        TRIAL_END,
        "pm_card_ok",
    )
    assert (sub.current_period_start, sub.current_period_end) == (START, TRIAL_END)
    [invoice] = await shop.invoices(runtime, sub.id)
    assert (invoice.status, invoice.reason, invoice.total, invoice.number) == (
        "paid",
        "subscription_create",
        0,
        "INV-000001",
    )
    assert (invoice.period_start, invoice.period_end) == (START, TRIAL_END)
    assert _lines(invoice) == [("seats", "Trial until Jan 24, 2027", 4, 0, 0)]
    assert await shop.count(runtime.engine, t.payments) == 0  # nothing was charged
    [created] = await shop.events(runtime.engine, "subscription.created")
    assert (created["status"], created["trial_end"]) == ("trialing", "2027-01-24T09:00:00Z")
    check_periods(await snapshot(runtime.engine))


async def test_a_declined_card_is_refused_at_the_confirm_and_the_checkout_stays_open(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=2, company_id=company_id
    )
    with pytest.raises(PaymentFailed):
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_declined")
    with pytest.raises(ValidationFailed):
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_typo")
    assert (await checkouts.get_checkout(runtime, checkout.id)).status == "open"
    assert await shop.count(runtime.engine, t.subscriptions) == 0
    assert len(await shop.events(runtime.engine, "checkout.payment_failed")) == 1
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.status == "completed"


async def test_seats_are_assignable_and_claims_grant_benefits_during_the_trial(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2)
    seat = await seats.assign_seat(runtime, subscription_id=sub_id, email="ann@acme.test")
    assert seat.invitation is not None
    claim = await claims.claim_seat(runtime, seat.invitation.token)
    assert claim.seat.status == "claimed"
    assert len(claim.grants) == 1
    view = await entitlements.company_entitlements(runtime, company_id)
    assert (view.seats.limit, view.seats.used, view.seats.available) == (2, 1, 1)


async def test_the_trial_end_bills_the_first_period_at_the_seats_held_then(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 3)
    clock.set(utc(2027, 1, 20))
    preview = await subscriptions.preview_change(runtime, sub_id, seats=5)
    assert (preview.lines, preview.total, preview.amount_due_now) == ((), 0, 0)
    changed = await subscriptions.change_subscription(runtime, sub_id, seats=5)
    assert (changed.seats, changed.status) == (5, "trialing")
    assert len(await shop.invoices(runtime, sub_id)) == 1  # nothing billed for the change
    assert await shop.waiting(runtime.engine, sub_id) == []  # nor waiting for later

    clock.set(TRIAL_END - timedelta(seconds=1))
    assert await renewals.renew_due(runtime) == []
    clock.set(TRIAL_END)
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.current_period_start, sub.current_period_end) == (
        "active",
        TRIAL_END,
        utc(2027, 2, 24, 9),
    )
    assert sub.trial_end == TRIAL_END
    first = (await shop.invoices(runtime, sub_id))[-1]
    assert (first.reason, first.status, first.total, first.number) == (
        "subscription_cycle",
        "paid",
        5000,
        "INV-000002",
    )
    assert _lines(first) == [("seats", "Seats 1–5 (tier 1)", 5, 1000, 5000)]
    [renewed] = await shop.events(runtime.engine, "subscription.renewed")
    assert (renewed["status"], renewed["trial_end"]) == ("active", "2027-01-24T09:00:00Z")
    check_periods(await snapshot(runtime.engine))

    clock.set(utc(2027, 2, 24, 9))
    assert await renewals.renew_due(runtime) == [sub_id]
    assert (await shop.invoices(runtime, sub_id))[-1].total == 5000


async def test_a_card_failing_at_the_trial_end_follows_dunning(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(
        runtime, price_id, company_id, 2, payment_method="pm_card_fail_after_first"
    )
    clock.set(TRIAL_END)
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    # The card's check at the confirm was no charge: its first charge, at the trial's end, paid.
    assert (sub.status, (await shop.invoices(runtime, sub_id))[-1].status) == ("active", "paid")

    clock.set(utc(2027, 2, 24, 9))  # its second charge is declined
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.next_payment_attempt_at) == ("past_due", utc(2027, 2, 25, 9))


async def test_a_declined_first_charge_makes_the_trialing_subscription_past_due(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2)
    async with runtime.engine.begin() as c:  # the card saved at the confirm expired since
        await c.execute(
            t.subscriptions.update()
            .where(t.subscriptions.c.id == sub_id)
            .values(payment_method="pm_card_declined")
        )
    clock.set(TRIAL_END)
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.past_due_since, sub.next_payment_attempt_at) == (
        "past_due",
        TRIAL_END,
        utc(2027, 1, 25, 9),
    )
    invoice = (await shop.invoices(runtime, sub_id))[-1]
    assert (invoice.status, invoice.total) == ("open", 2000)
    [past_due] = await shop.events(runtime.engine, "subscription.past_due")
    assert past_due["status"] == "past_due"
    clock.set(utc(2027, 2, 7, 9))  # 14 days after the first failure: canceled
    await renewals.renew_due(runtime)
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.canceled_at) == ("canceled", utc(2027, 2, 7, 9))


async def test_the_trial_end_is_announced_three_days_before_once(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2)
    leaving = await shop.subscribe(runtime, price_id, await shop.company(runtime, "x@b.test"), 1)
    await _cancel(runtime, leaving, at_period_end=True)  # nothing to announce: no charge follows
    clock.set(utc(2027, 1, 21, 8, 59, 59))
    await renewals.renew_due(runtime)
    assert await shop.events(runtime.engine, "subscription.trial_will_end") == []
    clock.set(utc(2027, 1, 21, 9))
    await renewals.renew_due(runtime)
    clock.set(utc(2027, 1, 22))
    await renewals.renew_due(runtime)
    [notice] = await shop.events(runtime.engine, "subscription.trial_will_end")
    assert (notice["id"], notice["status"], notice["trial_end"]) == (
        sub_id,
        "trialing",
        "2027-01-24T09:00:00Z",
    )


async def test_a_trial_already_over_when_the_run_comes_is_renewed_not_announced(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2)
    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    assert await shop.events(runtime.engine, "subscription.trial_will_end") == []


@pytest.mark.parametrize("at_period_end", [False, True])
async def test_cancelling_during_the_trial_costs_nothing(
    runtime: Runtime, clock: FixedClock, at_period_end: bool
) -> None:
    price_id, company_id = await _trial(runtime, clock)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 3)
    clock.set(utc(2027, 1, 15))
    await subscriptions.change_subscription(runtime, sub_id, seats=1)
    await _cancel(runtime, sub_id, at_period_end)
    clock.set(TRIAL_END)
    assert await renewals.renew_due(runtime) == []  # never renewed: nothing billed
    sub = await purchases.get_subscription(runtime, sub_id)
    assert sub.status == "canceled"
    assert sub.canceled_at == (TRIAL_END if at_period_end else utc(2027, 1, 15))
    assert [i.total for i in await shop.invoices(runtime, sub_id)] == [0]
    assert await shop.count(runtime.engine, t.payments) == 0
    assert await shop.count(runtime.engine, t.credit_balances) == 0


async def test_a_price_switch_during_the_trial_bills_the_new_price_at_its_end(
    runtime: Runtime, clock: FixedClock
) -> None:
    clock.set(START)
    monthly, annual = await shop.product(
        runtime, shop.per_seat(1000, trial_days=14), shop.per_seat(10000, "year")
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, monthly, company_id, 2)
    clock.set(utc(2027, 1, 12))
    changed = await subscriptions.change_subscription(runtime, sub_id, price_id=annual)
    assert (changed.price_id, changed.current_period_end, changed.status) == (
        annual,
        TRIAL_END,
        "trialing",
    )
    assert len(await shop.invoices(runtime, sub_id)) == 1
    clock.set(TRIAL_END)
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.current_period_start, sub.current_period_end) == (TRIAL_END, utc(2028, 1, 24, 9))
    assert (await shop.invoices(runtime, sub_id))[-1].total == 20000
    check_periods(await snapshot(runtime.engine))


async def test_a_rise_during_a_trial_of_a_true_up_product_is_billed_once_at_the_trial_end(
    runtime: Runtime, clock: FixedClock
) -> None:
    """A trial bills no change, and true-up bills a rise later: during the trial the rise is
    neither charged nor recorded for a true-up line; the trial's end bills the seats held."""
    clock.set(START)
    (price_id,) = await shop.product(
        runtime, shop.per_seat(1000, trial_days=14), increase="true_up", decrease="next_period"
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 3)
    clock.set(utc(2027, 1, 20))
    changed = await subscriptions.change_subscription(runtime, sub_id, seats=6)
    assert (changed.seats, changed.status) == (6, "trialing")
    assert len(await shop.invoices(runtime, sub_id)) == 1  # the trial's own, at 0

    clock.set(TRIAL_END)
    assert await renewals.renew_due(runtime) == [sub_id]
    first = (await shop.invoices(runtime, sub_id))[-1]
    assert (first.reason, first.total) == ("subscription_cycle", 6000)
    assert _lines(first) == [("seats", "Seats 1–6 (tier 1)", 6, 1000, 6000)]
    clock.set(utc(2027, 2, 24, 9))
    assert await renewals.renew_due(runtime) == [sub_id]
    assert (await shop.invoices(runtime, sub_id))[-1].total == 6000
    check_periods(await snapshot(runtime.engine))
