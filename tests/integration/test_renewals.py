"""SPEC §3: renewals exactly once, credit, failed payments and their retries, paying by hand,
and recovery from a crash between the steps of a renewal."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict, NotFound, PaymentFailed
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.services import (
    collection,
    credit,
    entitlements,
    grants,
    invoice_payments,
    purchases,
    renewals,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc


async def _cycle_invoices(engine: AsyncEngine) -> list[tuple[str, object]]:
    return [
        (row.subscription_id, row.period_start)
        for row in await shop.rows(engine, t.invoices, t.invoices.c.reason == "subscription_cycle")
    ]


async def _buy_many(runtime: Runtime, clock: FixedClock, n: int) -> list[str]:
    (price_id,) = await shop.product(runtime)
    clock.set(utc(2027, 1, 1))
    subs = []
    for i in range(n):
        company_id = await shop.company(runtime, f"boss{i}@acme.test")
        subs.append(await shop.subscribe(runtime, price_id, company_id, 1 + i))
    return subs


# -- exactly once ---------------------------------------------------------------------------------


async def test_a_period_renews_exactly_once_run_twice_or_concurrently(
    runtime: Runtime, clock: FixedClock, database_url: str
) -> None:
    subs = await _buy_many(runtime, clock, 7)
    clock.set(utc(2027, 2, 1))
    assert sorted(await renewals.renew_due(runtime, batch_size=3)) == sorted(subs)
    assert await renewals.renew_due(runtime) == []

    # Next period: three runs at once, one on an engine of its own (another process's pool).
    clock.set(utc(2027, 3, 1))
    other = Runtime(
        engine=create_engine(database_url),
        clock=clock,
        settings=runtime.settings,
        gateway=runtime.gateway,
    )
    try:
        results = await asyncio.gather(
            renewals.renew_due(runtime),
            renewals.renew_due(runtime, batch_size=2),
            renewals.renew_due(other),
        )
    finally:
        await other.engine.dispose()
    renewed = [sub_id for result in results for sub_id in result]
    assert sorted(renewed) == sorted(subs)  # each exactly once, whoever did it
    cycles = await _cycle_invoices(runtime.engine)
    assert len(cycles) == len(set(cycles)) == 14
    assert Counter(sub_id for sub_id, _ in cycles) == dict.fromkeys(subs, 2)
    # One payment per renewal invoice, and every invoice paid.
    invoices = await shop.rows(
        runtime.engine, t.invoices, t.invoices.c.reason == "subscription_cycle"
    )
    assert {row.status for row in invoices} == {"paid"}
    payments = await shop.rows(runtime.engine, t.payments, t.payments.c.invoice_id.is_not(None))
    assert Counter(p.invoice_id for p in payments if p.checkout_id is None) == {
        row.id: 1 for row in invoices
    }
    # Numbers stay one gapless sequence.
    numbers = sorted(row.number for row in await shop.rows(runtime.engine, t.invoices))
    assert numbers == [f"INV-{n:06d}" for n in range(1, 22)]
    for sub_id in subs:
        sub = await purchases.get_subscription(runtime, sub_id)
        assert (sub.current_period_start, sub.current_period_end, sub.status) == (
            utc(2027, 3, 1),
            utc(2027, 4, 1),
            "active",
        )
    assert len(await shop.events(runtime.engine, "subscription.renewed")) == 14


async def test_the_database_refuses_a_second_renewal_invoice_for_a_period(
    runtime: Runtime, clock: FixedClock
) -> None:
    from sqlalchemy.exc import IntegrityError

    from seatledger.services import invoicing

    [sub_id] = await _buy_many(runtime, clock, 1)
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    with pytest.raises(IntegrityError):
        async with runtime.transaction() as uow:
            await invoicing.create_invoice(
                uow,
                now=clock.now(),
                company_id=None,
                subscription_id=sub_id,
                currency="usd",
                lines=[],
                status="draft",
                reason="subscription_cycle",
                period_start=utc(2027, 2, 1),
            )


async def test_periods_that_passed_several_boundaries_renew_once_each_in_time_order(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    a = await shop.subscribe(runtime, price_id, company_id, 1, at=utc(2027, 1, 1), clock=clock)
    b = await shop.subscribe(runtime, price_id, company_id, 2, at=utc(2027, 1, 15), clock=clock)
    clock.set(utc(2027, 4, 1))
    assert await renewals.renew_due(runtime) == [a, b, a, b, a]
    starts = [
        (row.subscription_id, row.period_start)
        for row in await shop.rows(runtime.engine, t.invoices)
        if row.reason == "subscription_cycle"
    ]
    assert sorted(start for sub_id, start in starts if sub_id == a) == [
        utc(2027, 2, 1),
        utc(2027, 3, 1),
        utc(2027, 4, 1),
    ]
    assert sorted(start for sub_id, start in starts if sub_id == b) == [
        utc(2027, 2, 15),
        utc(2027, 3, 15),
    ]


# -- credit ---------------------------------------------------------------------------------------


async def test_a_renewal_total_is_never_negative_and_leftover_credit_stays(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime, price_id, company_id, 10, at=utc(2027, 1, 1), clock=clock
    )
    clock.set(utc(2027, 1, 2))
    await subscriptions.change_subscription(runtime, sub_id, seats=1)
    assert await shop.waiting(runtime.engine, sub_id) == [-8710]  # −9000 × 30/31
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    february = (await shop.invoices(runtime, sub_id))[-1]
    assert (february.subtotal, february.credit_applied, february.total, february.status) == (
        -7710,
        0,
        0,
        "paid",
    )
    assert await credit.company_balance(runtime, company_id) == [("usd", 7710)]
    clock.set(utc(2027, 3, 1))
    await renewals.renew_due(runtime)
    march = (await shop.invoices(runtime, sub_id))[-1]
    assert (march.subtotal, march.credit_applied, march.total) == (1000, 1000, 0)
    assert await credit.company_balance(runtime, company_id) == [("usd", 6710)]


# -- failed payments ------------------------------------------------------------------------------


@pytest.fixture
async def failing(runtime: Runtime, clock: FixedClock) -> dict[str, str]:
    """A subscription whose card paid the checkout and fails every charge after it, with a
    claimed seat; its renewal on Feb 1 fails."""
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime,
        price_id,
        company_id,
        3,
        at=utc(2027, 1, 1),
        clock=clock,
        payment_method="pm_card_fail_after_first",
    )
    seat = await seats.assign_seat(
        runtime, subscription_id=sub_id, email="ann@acme.test", immediate_claim=True
    )
    assert seat.member_id is not None
    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    invoice = (await shop.invoices(runtime, sub_id))[-1]
    return {
        "subscription_id": sub_id,
        "company_id": company_id,
        "seat_id": seat.id,
        "member_id": seat.member_id,
        "invoice_id": invoice.id,
    }


async def test_a_failed_renewal_is_retried_then_canceled_after_the_grace_period(
    runtime: Runtime, clock: FixedClock, failing: dict[str, str]
) -> None:
    sub_id = failing["subscription_id"]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.current_period_start, sub.current_period_end) == (
        "past_due",
        utc(2027, 2, 1),
        utc(2027, 3, 1),
    )
    assert (sub.past_due_since, sub.next_payment_attempt_at) == (utc(2027, 2, 1), utc(2027, 2, 2))
    invoice = (await shop.invoices(runtime, sub_id))[-1]
    assert (invoice.status, invoice.total, invoice.number) == ("open", 3000, "INV-000002")
    [past_due] = await shop.events(runtime.engine, "subscription.past_due")
    # The event is the subscription as the API shows it; the next try is in the notice email.
    assert (past_due["id"], past_due["status"]) == (sub_id, "past_due")

    schedule = [(utc(2027, 2, 2), utc(2027, 2, 4)), (utc(2027, 2, 4), utc(2027, 2, 8))]
    schedule.append((utc(2027, 2, 8), utc(2027, 2, 15)))
    for attempt_at, next_at in schedule:
        clock.set(attempt_at - timedelta(seconds=1))
        assert await renewals.renew_due(runtime) == []
        assert (await purchases.get_subscription(runtime, sub_id)).next_payment_attempt_at == (
            attempt_at
        )
        clock.set(attempt_at)
        assert await renewals.renew_due(runtime) == []
        sub = await purchases.get_subscription(runtime, sub_id)
        assert (sub.status, sub.next_payment_attempt_at) == ("past_due", next_at)
    failed = await shop.rows(runtime.engine, t.payments, t.payments.c.invoice_id == invoice.id)
    assert [p.status for p in failed] == ["failed"] * 4
    assert len(await shop.events(runtime.engine, "subscription.past_due")) == 1

    clock.set(utc(2027, 2, 15))
    assert await renewals.renew_due(runtime) == []
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.canceled_at, sub.assigned_seats) == ("canceled", utc(2027, 2, 15), 0)
    seat = await seats.get_seat(runtime, failing["seat_id"])
    assert (seat.status, seat.revoked_at) == ("revoked", utc(2027, 2, 15))
    held = await grants.member_entitlements(runtime, failing["member_id"])
    assert held.products == ()
    assert (await shop.invoices(runtime, sub_id))[-1].status == "void"
    assert len(await shop.events(runtime.engine, "invoice.voided")) == 1
    assert len(await shop.events(runtime.engine, "subscription.canceled")) == 1
    view = await entitlements.company_entitlements(runtime, failing["company_id"])
    assert (view.seats.limit, view.seats.used) == (0, 0)

    clock.set(utc(2027, 6, 1))
    assert await renewals.renew_due(runtime) == []  # a canceled subscription never renews


async def test_paying_the_open_invoice_by_hand_recovers_the_subscription(
    runtime: Runtime, clock: FixedClock, failing: dict[str, str]
) -> None:
    sub_id, invoice_id = failing["subscription_id"], failing["invoice_id"]
    with pytest.raises(PaymentFailed):
        await invoice_payments.pay_invoice(runtime, invoice_id, payment_method="pm_card_declined")
    assert (await shop.invoices(runtime, sub_id))[-1].status == "open"
    with pytest.raises(NotFound):
        await invoice_payments.pay_invoice(
            runtime, invoice_id, payment_method="pm_card_ok", scope_company_id="co_other"
        )
    clock.set(utc(2027, 2, 1, 18))
    paid = await invoice_payments.pay_invoice(
        runtime, invoice_id, payment_method="pm_card_ok", scope_company_id=failing["company_id"]
    )
    assert (paid.status, paid.paid_at, paid.total) == ("paid", utc(2027, 2, 1, 18), 3000)
    assert len(paid.lines) == 1
    sub = await purchases.get_subscription(runtime, sub_id)
    assert sub.status == "active"
    assert (sub.past_due_since, sub.next_payment_attempt_at, sub.payment_method) == (
        None,
        None,
        "pm_card_ok",
    )
    with pytest.raises(Conflict) as caught:
        await invoice_payments.pay_invoice(runtime, invoice_id, payment_method="pm_card_ok")
    assert caught.value.code == "invoice_not_open"

    clock.set(utc(2027, 2, 2))
    assert await renewals.renew_due(runtime) == []  # no retry any more
    clock.set(utc(2027, 3, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    march = (await shop.invoices(runtime, sub_id))[-1]
    assert march.status == "paid"  # charged to the card that paid by hand


# -- crashes --------------------------------------------------------------------------------------


class CrashingGateway:
    """The local gateway, but the process "dies" around the first ``crashes`` charges: before
    the provider answers (``after=False``) or after it took the money (``after=True``)."""

    name = "local"

    def __init__(self, inner: LocalGateway, *, after: bool, crashes: int = 1) -> None:
        self.inner = inner
        self.after = after
        self.crashes = crashes
        self.keys: list[str] = []

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.keys.append(request.idempotency_key)
        if self.crashes and not self.after:
            self.crashes -= 1
            raise ConnectionError("the provider did not answer")
        result = await self.inner.charge(request)
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("the process died after the charge")
        return result


@pytest.mark.parametrize("after", [True, False])
async def test_a_crash_between_the_steps_is_finished_by_a_later_run(
    runtime: Runtime, clock: FixedClock, gateway: LocalGateway, after: bool
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2, at=utc(2027, 1, 1), clock=clock)
    crashing = CrashingGateway(gateway, after=after)
    runtime.gateway = crashing
    clock.set(utc(2027, 2, 1))
    with pytest.raises(ConnectionError):
        await renewals.renew_due(runtime)
    [invoice] = [
        i for i in await shop.invoices(runtime, sub_id) if i.reason == "subscription_cycle"
    ]
    assert (invoice.status, invoice.number) == ("open", "INV-000002")
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.current_period_end) == ("active", utc(2027, 3, 1))
    assert sub.next_payment_attempt_at == utc(2027, 2, 1) + collection.COLLECTION_LEASE

    assert await renewals.renew_due(runtime) == []  # the lease holds: nothing runs twice
    assert len(crashing.keys) == 1
    clock.set(utc(2027, 2, 1) + collection.COLLECTION_LEASE)
    assert await renewals.renew_due(runtime) == []
    [invoice] = [
        i for i in await shop.invoices(runtime, sub_id) if i.reason == "subscription_cycle"
    ]
    assert invoice.status == "paid"
    key = f"invoice:{invoice.id}:attempt:1"
    assert crashing.keys == [key, key]  # the retry sends the same key…
    [payment] = await shop.rows(runtime.engine, t.payments, t.payments.c.invoice_id == invoice.id)
    # …so a charge the provider took before the crash is the one recorded, never a second one.
    assert (payment.status, payment.amount) == ("succeeded", 2000)
    assert payment.provider_reference == gateway._answers[key].reference
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.next_payment_attempt_at, sub.current_period_end) == (
        "active",
        None,
        utc(2027, 3, 1),
    )
    assert len(await _cycle_invoices(runtime.engine)) == 1


async def test_a_broken_subscription_holds_up_no_other_and_leaves_nothing_half_done(
    runtime: Runtime, clock: FixedClock
) -> None:
    healthy, broken = await _buy_many(runtime, clock, 2)
    async with runtime.engine.begin() as c:  # damaged data: a pending change to no price
        await c.execute(
            update(t.subscriptions)
            .where(t.subscriptions.c.id == broken)
            .values(
                pending_change={
                    "seats": 1,
                    "price_id": "price_gone",
                    "effective_at": "2027-02-01T00:00:00+00:00",
                }
            )
        )
        await c.execute(t.outbox.delete())
    clock.set(utc(2027, 2, 1))
    with pytest.raises(KeyError):
        await renewals.renew_due(runtime)
    assert await _cycle_invoices(runtime.engine) == [(healthy, utc(2027, 2, 1))]
    assert [e["id"] for e in await shop.events(runtime.engine, "subscription.renewed")] == [healthy]
    still = await purchases.get_subscription(runtime, broken)
    assert still.current_period_end == utc(2027, 2, 1)  # the failed renewal left no trace
    async with runtime.engine.begin() as c:
        await c.execute(
            update(t.subscriptions)
            .where(t.subscriptions.c.id == broken)
            .values(pending_change=None)
        )
    assert await renewals.renew_due(runtime) == [broken]


async def test_subscriptions_of_one_company_use_its_credit_in_turn(
    runtime: Runtime, clock: FixedClock
) -> None:
    """Renewals of different subscriptions of one company share its credit balance in time
    order: the second uses what the first left."""
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    a = await shop.subscribe(runtime, price_id, company_id, 1, at=utc(2027, 1, 1), clock=clock)
    b = await shop.subscribe(runtime, price_id, company_id, 1, at=utc(2027, 1, 1), clock=clock)
    async with runtime.engine.begin() as c:
        await c.execute(
            t.credit_balances.insert().values(company_id=company_id, currency="usd", amount=1500)
        )
    clock.set(utc(2027, 2, 1))
    assert sorted(await renewals.renew_due(runtime)) == sorted([a, b])
    rows = await shop.rows(runtime.engine, t.invoices, t.invoices.c.reason == "subscription_cycle")
    assert sorted((row.credit_applied, row.total) for row in rows) == [(500, 500), (1000, 0)]
    async with runtime.engine.connect() as c:
        left = (await c.execute(select(t.credit_balances.c.amount))).scalar_one()
    assert left == 0


class PaidByHandMeanwhile:
    """A provider that takes the money, but while it answers the customer pays the same invoice
    by hand (through another runtime): two payments race for one invoice."""

    name = "local"

    def __init__(self, other: Runtime, invoice_id: str) -> None:
        self.other = other
        self.invoice_id = invoice_id

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        await invoice_payments.pay_invoice(self.other, self.invoice_id, payment_method="pm_card_ok")
        return PaymentResult(True, reference=f"py_race_{request.idempotency_key}")


async def test_money_taken_for_an_invoice_paid_meanwhile_becomes_credit(
    runtime: Runtime, clock: FixedClock, failing: dict[str, str]
) -> None:
    by_hand = Runtime(
        engine=runtime.engine, clock=clock, settings=runtime.settings, gateway=LocalGateway()
    )
    runtime.gateway = PaidByHandMeanwhile(by_hand, failing["invoice_id"])
    clock.set(utc(2027, 2, 2))  # the first retry
    assert await renewals.renew_due(runtime) == []
    payments = await shop.rows(
        runtime.engine, t.payments, t.payments.c.invoice_id == failing["invoice_id"]
    )
    assert sorted(p.status for p in payments) == ["failed", "succeeded", "succeeded"]
    assert await credit.company_balance(runtime, failing["company_id"]) == [("usd", 3000)]
    sub = await purchases.get_subscription(runtime, failing["subscription_id"])
    assert (sub.status, sub.next_payment_attempt_at) == ("active", None)
    assert (await shop.invoices(runtime, sub.id))[-1].status == "paid"
