"""SPEC §3: seat-count and price changes, their behaviors, defaults and refusals; preview."""

from __future__ import annotations

from typing import Any

import pytest

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.local import LocalGateway
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict, NotFound, PaymentFailed, ValidationFailed
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.domain.purchase import PendingChange
from seatledger.pricing import SeatsOutOfRange
from seatledger.services import (
    catalog,
    credit,
    grants,
    purchases,
    renewals,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc

TOUCHED = (t.subscriptions, t.invoices, t.invoice_lines, t.pending_lines, t.payments, t.outbox)


async def _counts(runtime: Runtime) -> dict[str, int]:
    return {table.name: await shop.count(runtime.engine, table) for table in TOUCHED}


@pytest.fixture
async def team(runtime: Runtime, clock: FixedClock) -> dict[str, str]:
    """5 seats of a 1000-a-seat monthly price, bought on 2027-01-01; mid-January now."""
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16, 12))
    return {"price_id": price_id, "company_id": company_id, "subscription_id": sub_id}


# -- behaviors and defaults -----------------------------------------------------------------------


async def test_an_increase_defaults_to_invoice_and_is_charged_now(
    runtime: Runtime, team: dict[str, str]
) -> None:
    sub = await subscriptions.change_subscription(runtime, team["subscription_id"], seats=7)
    assert sub.seats == 7
    latest = (await shop.invoices(runtime, sub.id))[-1]
    assert (latest.reason, latest.status, latest.total) == ("subscription_update", "paid", 1000)
    assert await shop.waiting(runtime.engine, sub.id) == []
    [event] = await shop.events(runtime.engine, "subscription.updated")
    # The event is the subscription; the invoice above shows the behaviour was `invoice`.
    assert (event["id"], event["seats"]) == (sub.id, 7)


async def test_a_decrease_defaults_to_prorate_and_waits(
    runtime: Runtime, team: dict[str, str]
) -> None:
    sub = await subscriptions.change_subscription(runtime, team["subscription_id"], seats=3)
    assert sub.seats == 3
    assert await shop.waiting(runtime.engine, sub.id) == [-1000]
    assert len(await shop.invoices(runtime, sub.id)) == 1


async def test_increase_or_decrease_follows_the_amount_not_the_seat_delta(
    runtime: Runtime, clock: FixedClock
) -> None:
    # Volume tiers: 10 seats cost 8000, 11 seats 5500 — one more seat is a credit.
    (price_id,) = await shop.product(
        runtime, {"currency": "usd", "interval": "month", "tiers": shop.VOLUME}
    )
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime, price_id, company_id, 10, at=utc(2027, 1, 1), clock=clock
    )
    clock.set(utc(2027, 1, 16, 12))
    await subscriptions.change_subscription(runtime, sub_id, seats=11)
    assert await shop.waiting(runtime.engine, sub_id) == [-1250]  # the decrease default: prorate
    assert len(await shop.invoices(runtime, sub_id)) == 1


async def test_the_products_own_defaults_apply(runtime: Runtime, clock: FixedClock) -> None:
    (price_id,) = await shop.product(runtime, increase="prorate", decrease="next_period")
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16, 12))
    up = await subscriptions.change_subscription(runtime, sub_id, seats=7)
    assert (up.seats, await shop.waiting(runtime.engine, sub_id)) == (7, [1000])
    down = await subscriptions.change_subscription(runtime, sub_id, seats=6)
    assert down.seats == 7
    assert down.pending_change == PendingChange(6, price_id, utc(2027, 2, 1))


async def test_a_declined_invoice_charge_changes_nothing(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime,
        price_id,
        company_id,
        5,
        at=utc(2027, 1, 1),
        clock=clock,
        payment_method="pm_card_fail_after_first",
    )
    clock.set(utc(2027, 1, 16, 12))
    before = await _counts(runtime)
    with pytest.raises(PaymentFailed):
        await subscriptions.change_subscription(
            runtime, sub_id, seats=8, proration_behavior="invoice"
        )
    after = await _counts(runtime)
    assert after == {**before, "outbox": before["outbox"] + 1}  # only the failure's event
    [failed] = await shop.events(runtime.engine, "subscription.update_payment_failed")
    assert (failed["amount"], failed["seats"]) == (1500, 8)
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 5
    # The invoice sequence has no gap: the next invoice takes the next number.
    await subscriptions.change_subscription(runtime, sub_id, seats=3)
    await subscriptions.change_subscription(runtime, sub_id, seats=2, proration_behavior="invoice")
    assert [i.number for i in await shop.invoices(runtime, sub_id)] == ["INV-000001", "INV-000002"]


# -- next_period ----------------------------------------------------------------------------------


async def test_next_period_is_pending_until_the_renewal(
    runtime: Runtime, clock: FixedClock, team: dict[str, str]
) -> None:
    sub_id = team["subscription_id"]
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=8, proration_behavior="next_period"
    )
    assert (sub.seats, sub.pending_change) == (
        5,
        PendingChange(8, team["price_id"], utc(2027, 2, 1)),
    )
    assert await shop.waiting(runtime.engine, sub_id) == []
    # A later change replaces it…
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=2, proration_behavior="next_period"
    )
    assert sub.pending_change == PendingChange(2, team["price_id"], utc(2027, 2, 1))
    # …and seats assigned meanwhile are never revoked: the renewal applies max(target, assigned).
    for n in range(3):
        await seats.assign_seat(runtime, subscription_id=sub_id, email=f"p{n}@acme.test")
    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    renewed = await purchases.get_subscription(runtime, sub_id)
    assert (renewed.seats, renewed.pending_change) == (3, None)
    renewal = (await shop.invoices(runtime, sub_id))[-1]
    assert [(x.kind, x.quantity, x.amount) for x in renewal.lines] == [("seats", 3, 3000)]


async def test_setting_the_current_value_cancels_a_pending_change(
    runtime: Runtime, team: dict[str, str]
) -> None:
    sub_id = team["subscription_id"]
    await subscriptions.change_subscription(
        runtime, sub_id, seats=8, proration_behavior="next_period"
    )
    sub = await subscriptions.change_subscription(runtime, sub_id, seats=5)
    assert (sub.seats, sub.pending_change) == (5, None)
    assert len(await shop.events(runtime.engine, "subscription.updated")) == 2


async def test_a_change_applied_now_replaces_a_pending_one(
    runtime: Runtime, team: dict[str, str]
) -> None:
    sub_id = team["subscription_id"]
    await subscriptions.change_subscription(
        runtime, sub_id, seats=8, proration_behavior="next_period"
    )
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=6, proration_behavior="prorate"
    )
    assert (sub.seats, sub.pending_change) == (6, None)


async def test_a_no_op_bills_nothing_and_emits_nothing(
    runtime: Runtime, team: dict[str, str]
) -> None:
    before = await _counts(runtime)
    sub = await subscriptions.change_subscription(
        runtime, team["subscription_id"], seats=5, price_id=team["price_id"]
    )
    assert sub.seats == 5
    sub = await subscriptions.change_subscription(
        runtime, team["subscription_id"], cancel_at_period_end=False
    )
    assert await _counts(runtime) == before


# -- refusals -------------------------------------------------------------------------------------


async def test_never_below_the_assigned_seats(runtime: Runtime, team: dict[str, str]) -> None:
    sub_id = team["subscription_id"]
    for n in range(4):
        await seats.assign_seat(runtime, subscription_id=sub_id, email=f"p{n}@acme.test")
    for behavior in ("invoice", "prorate", "next_period"):
        with pytest.raises(Conflict) as caught:
            await subscriptions.change_subscription(
                runtime, sub_id, seats=3, proration_behavior=behavior
            )
        assert caught.value.code == "seats_below_assigned"
    assert (await subscriptions.change_subscription(runtime, sub_id, seats=4)).seats == 4


async def test_bounds_of_the_price(runtime: Runtime, clock: FixedClock) -> None:
    (price_id,) = await shop.product(runtime, shop.per_seat(1000, minimum_seats=2, maximum_seats=9))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=utc(2027, 1, 1), clock=clock)
    for bad in (1, 10, 0, -3, 10**30, "7", 2.5):
        with pytest.raises(SeatsOutOfRange) as caught:
            await subscriptions.change_subscription(runtime, sub_id, seats=bad)  # type: ignore[arg-type]
        assert caught.value.errors[0][0] == "seats"


async def test_canceled_or_cancelling_subscriptions_do_not_change(
    runtime: Runtime, team: dict[str, str]
) -> None:
    sub_id = team["subscription_id"]
    sub = await subscriptions.change_subscription(runtime, sub_id, cancel_at_period_end=True)
    assert sub.cancel_at_period_end
    with pytest.raises(Conflict) as caught:
        await subscriptions.change_subscription(runtime, sub_id, seats=6)
    assert caught.value.code == "subscription_not_active"
    # Undoing the cancellation in the same PATCH lets the change through.
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=4, cancel_at_period_end=False
    )
    assert (sub.seats, sub.cancel_at_period_end) == (4, False)


async def test_price_refusals(runtime: Runtime, team: dict[str, str]) -> None:
    sub_id = team["subscription_id"]
    euro, one_time, archived = await shop.product(
        runtime,
        {**shop.per_seat(900), "currency": "eur"},
        shop.per_seat(5000, interval=None),
        shop.per_seat(800),
        name="Other",
    )
    await catalog.archive_price(runtime, archived)
    for price_id in (euro, one_time):
        with pytest.raises(ValidationFailed) as invalid:
            await subscriptions.change_subscription(runtime, sub_id, price_id=price_id)
        assert invalid.value.errors[0][0] == "price_id"
    with pytest.raises(Conflict) as conflict:
        await subscriptions.change_subscription(runtime, sub_id, price_id=archived)
    assert conflict.value.code == "price_archived"
    for unknown in ("price_nope", 42):
        with pytest.raises(NotFound) as missing:
            await subscriptions.change_subscription(runtime, sub_id, price_id=unknown)  # type: ignore[arg-type]
        assert missing.value.errors == (("price_id", "no such price"),)
    with pytest.raises(ValidationFailed) as behavior:
        await subscriptions.change_subscription(
            runtime,
            sub_id,
            seats=6,
            proration_behavior="later",  # type: ignore[arg-type]
        )
    assert behavior.value.errors[0][0] == "proration_behavior"


async def test_an_archived_current_price_still_changes_seats(
    runtime: Runtime, team: dict[str, str]
) -> None:
    await catalog.archive_price(runtime, team["price_id"])
    sub = await subscriptions.change_subscription(runtime, team["subscription_id"], seats=3)
    assert sub.seats == 3


async def test_another_companys_subscription_is_not_found(
    runtime: Runtime, team: dict[str, str]
) -> None:
    other = await shop.company(runtime, "other@globex.test")
    calls: list[Any] = [
        subscriptions.change_subscription(
            runtime, team["subscription_id"], seats=6, scope_company_id=other
        ),
        subscriptions.preview_change(
            runtime, team["subscription_id"], seats=6, scope_company_id=other
        ),
        subscriptions.change_subscription(runtime, "sub_nope", seats=6),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            await call
    own = await subscriptions.change_subscription(
        runtime, team["subscription_id"], seats=6, scope_company_id=team["company_id"]
    )
    assert own.seats == 6


async def test_an_owner_scoped_subscription_needs_its_company_first(
    runtime: Runtime, clock: FixedClock
) -> None:
    from seatledger.services import checkouts

    (price_id,) = await shop.product(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=2, customer_email="early@acme.test"
    )
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    with pytest.raises(Conflict) as caught:
        await subscriptions.change_subscription(runtime, done.subscription_id, seats=3)
    assert caught.value.code == "company_required"


# -- price changes --------------------------------------------------------------------------------


async def test_a_same_interval_price_switch_is_one_net_line(
    runtime: Runtime, team: dict[str, str]
) -> None:
    (pro,) = await shop.product(runtime, shop.per_seat(2000), name="Pro")
    sub = await subscriptions.change_subscription(runtime, team["subscription_id"], price_id=pro)
    assert (sub.price_id, sub.seats) == (pro, 5)
    update = (await shop.invoices(runtime, sub.id))[-1]
    assert [(x.description, x.amount) for x in update.lines] == [
        ("Price change (5 seats), Jan 16 – Feb 1", 2500)
    ]


async def test_claimed_seats_follow_the_new_products_benefits(
    runtime: Runtime, team: dict[str, str]
) -> None:
    kept = await catalog.create_benefit(
        runtime, type="license_key", description="Key", properties={"prefix": "K"}
    )
    old_product = await catalog.create_product(
        runtime, name="Old", prices=[shop.per_seat(1000)], benefit_ids=[kept.id]
    )
    extra = await catalog.create_benefit(
        runtime, type="custom", description="Extra", properties={"note": "new"}
    )
    new_product = await catalog.create_product(
        runtime, name="New", prices=[shop.per_seat(1500)], benefit_ids=[kept.id, extra.id]
    )
    other_sub = await shop.subscribe(runtime, old_product.prices[0].id, team["company_id"], 2)
    seat = await seats.assign_seat(
        runtime, subscription_id=other_sub, email="ann@acme.test", immediate_claim=True
    )
    assert seat.member_id is not None
    before = await grants.member_entitlements(runtime, seat.member_id)
    [key_grant] = before.products[0].benefits
    await subscriptions.change_subscription(runtime, other_sub, price_id=new_product.prices[0].id)
    after = await grants.member_entitlements(runtime, seat.member_id)
    [held] = after.products
    assert held.product_id == new_product.id
    assert sorted(g.benefit_id for g in held.benefits) == sorted([kept.id, extra.id])
    same = next(g for g in held.benefits if g.benefit_id == kept.id)
    assert (same.id, same.properties["license_key"]) == (
        key_grant.id,
        key_grant.properties["license_key"],
    )
    del team  # the fixture's own subscription is not touched


async def test_a_move_to_a_shorter_interval_waits_for_the_period_end(
    runtime: Runtime, clock: FixedClock
) -> None:
    annual, monthly = await shop.product(runtime, shop.per_seat(10000, "year"), shop.per_seat(1000))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, annual, company_id, 2, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 6, 1))
    sub = await subscriptions.change_subscription(runtime, sub_id, price_id=monthly)
    assert (sub.price_id, sub.pending_change) == (
        annual,
        PendingChange(2, monthly, utc(2028, 1, 1)),
    )
    clock.set(utc(2028, 1, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.price_id, sub.current_period_start, sub.current_period_end) == (
        monthly,
        utc(2028, 1, 1),
        utc(2028, 2, 1),
    )
    renewal = (await shop.invoices(runtime, sub_id))[-1]
    assert renewal.total == 2000  # no proration: the new price for a whole new period


async def test_an_interval_switch_takes_the_waiting_lines_along(
    runtime: Runtime, clock: FixedClock
) -> None:
    monthly, annual = await shop.product(runtime, shop.per_seat(1000), shop.per_seat(10000, "year"))
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, monthly, company_id, 5, at=utc(2027, 4, 1), clock=clock)
    clock.set(utc(2027, 4, 11))
    await subscriptions.change_subscription(runtime, sub_id, seats=2)  # −3000 × 20/30
    assert await shop.waiting(runtime.engine, sub_id) == [-2000]
    clock.set(utc(2027, 4, 16))
    await subscriptions.change_subscription(runtime, sub_id, price_id=annual)
    switch = (await shop.invoices(runtime, sub_id))[-1]
    assert [(x.kind, x.amount) for x in switch.lines] == [
        ("credit", -1000),
        ("seats", 20000),
        ("proration", -2000),
    ]
    assert switch.total == 17000
    assert await shop.waiting(runtime.engine, sub_id) == []


# -- credit ---------------------------------------------------------------------------------------


async def test_a_net_credit_goes_to_the_balance_and_pays_the_next_invoice(
    runtime: Runtime, clock: FixedClock, team: dict[str, str]
) -> None:
    sub_id, company_id = team["subscription_id"], team["company_id"]
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=1, proration_behavior="invoice"
    )
    assert sub.seats == 1
    credit_note = (await shop.invoices(runtime, sub_id))[-1]
    assert (credit_note.subtotal, credit_note.total, credit_note.status) == (-2000, 0, "paid")
    assert await credit.company_balance(runtime, company_id) == [("usd", 2000)]
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    renewal = (await shop.invoices(runtime, sub_id))[-1]
    assert (renewal.subtotal, renewal.credit_applied, renewal.total) == (1000, 1000, 0)
    assert renewal.status == "paid"
    assert await credit.company_balance(runtime, company_id) == [("usd", 1000)]
    assert await shop.count(runtime.engine, t.payments, t.payments.c.invoice_id == renewal.id) == 0
    clock.set(utc(2027, 3, 1))
    await renewals.renew_due(runtime)
    assert await credit.company_balance(runtime, company_id) == []
    with pytest.raises(NotFound):
        await credit.company_balance(runtime, company_id, scope_company_id="co_other")


# -- preview --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ask", "billed_now"),
    [
        ({"seats": 8, "proration_behavior": "invoice"}, True),
        ({"seats": 8, "proration_behavior": "prorate"}, False),
        ({"seats": 2}, False),
        ({"seats": 9, "proration_behavior": "next_period"}, False),
        ({"annual": True}, True),
    ],
)
async def test_a_preview_is_what_the_change_then_bills(
    runtime: Runtime, team: dict[str, str], ask: dict[str, Any], billed_now: bool
) -> None:
    sub_id = team["subscription_id"]
    ask = dict(ask)  # the parameters are shared by both databases' runs
    if ask.pop("annual", False):
        (annual,) = await shop.product(runtime, shop.per_seat(9000, "year"), name="Annual")
        ask["price_id"] = annual
    before = await _counts(runtime)
    preview = await subscriptions.preview_change(runtime, sub_id, **ask)
    assert await _counts(runtime) == before  # a preview writes nothing
    assert preview.invoice_now is billed_now
    sub = await subscriptions.change_subscription(runtime, sub_id, **ask)
    assert (sub.seats, sub.price_id, sub.pending_change) == (
        preview.seats,
        preview.price_id,
        preview.pending_change,
    )
    assert (sub.current_period_start, sub.current_period_end) == (
        preview.current_period_start,
        preview.current_period_end,
    )
    if billed_now:
        invoice = (await shop.invoices(runtime, sub_id))[-1]
        assert invoice.lines == preview.lines
        assert (invoice.subtotal, invoice.credit_applied, invoice.total) == (
            preview.subtotal,
            preview.credit_applied,
            preview.amount_due_now,
        )
    else:
        assert preview.amount_due_now == 0
        assert await shop.waiting(runtime.engine, sub_id) == [x.amount for x in preview.lines]


class ChangedMeanwhile:
    """A provider that takes the money while, elsewhere, the subscription changes again."""

    name = "local"

    def __init__(self, other: Runtime, subscription_id: str) -> None:
        self.other = other
        self.subscription_id = subscription_id

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        await subscriptions.change_subscription(
            self.other, self.subscription_id, seats=9, proration_behavior="prorate"
        )
        return PaymentResult(True, reference="py_meanwhile")


async def test_a_change_whose_plan_moved_while_paying_keeps_the_money_as_credit(
    runtime: Runtime, team: dict[str, str], gateway: LocalGateway
) -> None:
    sub_id = team["subscription_id"]
    other = Runtime(
        engine=runtime.engine, clock=runtime.clock, settings=runtime.settings, gateway=gateway
    )
    runtime.gateway = ChangedMeanwhile(other, sub_id)
    with pytest.raises(Conflict) as caught:
        await subscriptions.change_subscription(
            runtime, sub_id, seats=7, proration_behavior="invoice"
        )
    assert caught.value.code == "subscription_changed"
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 9  # the other change
    assert await credit.company_balance(runtime, team["company_id"]) == [("usd", 1000)]
    [payment] = await shop.rows(runtime.engine, t.payments, t.payments.c.invoice_id.is_(None))
    assert (payment.provider_reference, payment.amount) == ("py_meanwhile", 1000)
