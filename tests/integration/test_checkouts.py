"""SPEC §3, §4, §6 (checkout): opening, changing and confirming checkouts, on both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.adapters.payments.local import LocalGateway
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict, NotFound, PaymentFailed, ValidationFailed
from seatledger.domain.payments import PaymentRequest
from seatledger.pricing import SeatsOutOfRange
from seatledger.services import checkouts, companies, invoicing, purchases
from seatledger.services.runtime import Runtime
from tests.integration import pools

TIERED = [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}]
TOUCHED = (
    t.checkouts,
    t.subscriptions,
    t.orders,
    t.invoices,
    t.invoice_lines,
    t.payments,
    t.seats,
    t.benefit_grants,
    t.outbox,
)


async def _rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def _events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    return [row.payload for row in await _rows(engine, t.outbox, t.outbox.c.type == kind)]


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as c:
        return {
            table.name: int((await c.execute(select(func.count()).select_from(table))).scalar_one())
            for table in TOUCHED
        }


async def _company(runtime: Runtime, email: str = "boss@acme.example") -> str:
    return (await companies.create_company(runtime, name="Acme", billing_manager_email=email)).id


async def _yen(runtime: Runtime, **price: Any) -> str:
    """¥1000 a seat a month."""
    return await pools.product(
        runtime.engine,
        benefits=1,
        **{"currency": "jpy", "tiers": [{"up_to": None, "unit_amount": 1000}], **price},
    )


async def _archive(engine: AsyncEngine, price_id: str) -> None:
    async with engine.begin() as c:
        await c.execute(
            update(t.prices).where(t.prices.c.id == price_id).values(archived_at=pools.NOW)
        )


# -- creating -------------------------------------------------------------------------------------


async def test_a_checkout_for_a_company_is_priced_in_minor_units(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await _yen(runtime)
    company_id = await _company(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=3, company_id=company_id
    )
    assert (checkout.status, checkout.seats, checkout.amount_due, checkout.currency) == (
        "open",
        3,
        3000,
        "jpy",
    )
    assert (checkout.company_id, checkout.customer_email) == (company_id, None)
    assert checkout.expires_at == clock.now() + timedelta(hours=24)
    assert checkout.subscription_id is None
    assert checkout.order_id is None
    assert await checkouts.get_checkout(runtime, checkout.id) == checkout
    [event] = await _events(runtime.engine, "checkout.created")
    assert (event["id"], event["amount_due"]) == (checkout.id, 3000)


@pytest.mark.parametrize(
    ("price", "seats", "amount"),
    [
        ({"tiers": TIERED, "tiers_mode": "volume"}, 14, 11200),
        ({"tiers": TIERED, "tiers_mode": "graduated"}, 14, 13200),
        (
            {
                "tiers": [{"up_to": None, "unit_amount": 1500}],
                "base_amount": 2900,
                "included_seats": 5,
            },
            8,
            7400,
        ),
        ({"tiers": [{"up_to": None, "unit_amount": 1999}]}, 3, 5997),
    ],
)
async def test_usd_amounts_follow_the_price(
    runtime: Runtime, price: dict[str, Any], seats: int, amount: int
) -> None:
    price_id = await pools.product(runtime.engine, benefits=0, **price)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=seats, customer_email="buyer@acme.example"
    )
    assert (checkout.amount_due, checkout.currency) == (amount, "usd")


async def test_a_checkout_for_an_email_stores_it_lowercased(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="Buyer@ACME.example"
    )
    assert (checkout.customer_email, checkout.company_id) == ("buyer@acme.example", None)


async def _rejected(
    runtime: Runtime, error: type[Exception], field: str | None, **kwargs: Any
) -> Exception:
    """The call fails with ``error`` naming ``field`` and changes nothing."""
    before = await _counts(runtime.engine)
    with pytest.raises(error) as caught:
        await checkouts.create_checkout(runtime, **kwargs)
    if field is not None:
        assert [f for f, _ in caught.value.errors] == [field]  # type: ignore[attr-defined]
    assert await _counts(runtime.engine) == before
    return caught.value


async def test_exactly_one_buyer(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    company_id = await _company(runtime)
    for buyer in ({}, {"company_id": company_id, "customer_email": "a@acme.example"}):
        await _rejected(
            runtime, ValidationFailed, "company_id", price_id=price_id, seats=1, **buyer
        )


@pytest.mark.parametrize(
    "email", ["not-an-email", "", "a@", "@acme.example", "x" * 300 + "@a.example"]
)
async def test_a_malformed_email_is_rejected(runtime: Runtime, email: str) -> None:
    price_id = await _yen(runtime)
    await _rejected(
        runtime,
        ValidationFailed,
        "customer_email",
        price_id=price_id,
        seats=1,
        customer_email=email,
    )


@pytest.mark.parametrize("price_id", ["price_nope", "", 42, None])
async def test_an_unknown_price_names_price_id(runtime: Runtime, price_id: Any) -> None:
    await _rejected(
        runtime, NotFound, "price_id", price_id=price_id, seats=1, customer_email="a@acme.example"
    )


@pytest.mark.parametrize("company_id", ["co_nope", 7])
async def test_an_unknown_company_names_company_id(runtime: Runtime, company_id: Any) -> None:
    price_id = await _yen(runtime)
    await _rejected(
        runtime, NotFound, "company_id", price_id=price_id, seats=1, company_id=company_id
    )


async def test_an_archived_price_cannot_be_bought(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    await _archive(runtime.engine, price_id)
    error = await _rejected(
        runtime, Conflict, None, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    assert error.code == "price_archived"  # type: ignore[attr-defined]


@pytest.mark.parametrize("seats", [0, -1, -(10**30), 10**30, 10_000_001, 2.5, "3", True, None])
async def test_seat_counts_out_of_range(runtime: Runtime, seats: Any) -> None:
    price_id = await _yen(runtime)
    error = await _rejected(
        runtime, SeatsOutOfRange, "seats", price_id=price_id, seats=seats, customer_email="a@b.co"
    )
    assert error.code == "seats_out_of_range"  # type: ignore[attr-defined]


async def test_seat_counts_follow_the_price_bounds(runtime: Runtime) -> None:
    price_id = await _yen(runtime, minimum_seats=3, maximum_seats=5)
    for seats in (2, 6):
        await _rejected(
            runtime,
            SeatsOutOfRange,
            "seats",
            price_id=price_id,
            seats=seats,
            customer_email="a@b.co",
        )
    for seats in (3, 5):
        checkout = await checkouts.create_checkout(
            runtime, price_id=price_id, seats=seats, customer_email="a@b.co"
        )
        assert checkout.amount_due == seats * 1000


async def test_unknown_checkouts_are_not_found(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    mine, theirs = await _company(runtime), await _company(runtime, "other@else.example")
    checkout = await checkouts.create_checkout(runtime, price_id=price_id, seats=1, company_id=mine)
    with pytest.raises(NotFound):
        await checkouts.get_checkout(runtime, "chk_nope")
    with pytest.raises(NotFound):
        await checkouts.get_checkout(runtime, checkout.id, scope_company_id=theirs)
    with pytest.raises(NotFound):
        await checkouts.update_checkout(runtime, "chk_nope", seats=2)
    with pytest.raises(NotFound):
        await checkouts.confirm_checkout(runtime, "chk_nope", payment_method="pm_card_ok")
    assert (await checkouts.get_checkout(runtime, checkout.id, scope_company_id=mine)).id == (
        checkout.id
    )


# -- changing -------------------------------------------------------------------------------------


async def test_changing_the_seat_count_recomputes_the_amount(runtime: Runtime) -> None:
    price_id = await _yen(runtime, maximum_seats=10)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=3, customer_email="a@acme.example"
    )
    changed = await checkouts.update_checkout(runtime, checkout.id, seats=7)
    assert (changed.seats, changed.amount_due, changed.status) == (7, 7000, "open")
    assert await checkouts.get_checkout(runtime, checkout.id) == changed
    assert len(await _events(runtime.engine, "checkout.updated")) == 1

    before = await _counts(runtime.engine)
    for seats in (0, -3, 11, 10**30):
        with pytest.raises(SeatsOutOfRange):
            await checkouts.update_checkout(runtime, checkout.id, seats=seats)
    assert await _counts(runtime.engine) == before
    assert (await checkouts.get_checkout(runtime, checkout.id)).seats == 7


async def test_only_an_open_checkout_changes(runtime: Runtime, clock: FixedClock) -> None:
    price_id = await _yen(runtime)
    done = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    await checkouts.confirm_checkout(runtime, done.id, payment_method="pm_card_ok")
    with pytest.raises(Conflict) as caught:
        await checkouts.update_checkout(runtime, done.id, seats=2)
    assert caught.value.code == "checkout_not_open"

    stale = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    clock.advance(timedelta(hours=25))
    with pytest.raises(Conflict) as caught:
        await checkouts.update_checkout(runtime, stale.id, seats=2)
    assert caught.value.code == "checkout_not_open"
    [row] = await _rows(runtime.engine, t.checkouts, t.checkouts.c.id == stale.id)
    assert (row.status, row.seats) == ("expired", 1)


async def test_a_checkout_of_a_price_archived_meanwhile_cannot_change(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    await _archive(runtime.engine, price_id)
    with pytest.raises(Conflict) as caught:
        await checkouts.update_checkout(runtime, checkout.id, seats=2)
    assert caught.value.code == "price_archived"


# -- confirming -----------------------------------------------------------------------------------


async def test_confirming_a_recurring_price_creates_an_active_subscription(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await _yen(runtime)
    company_id = await _company(runtime, "Boss@Acme.example")
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=3, company_id=company_id
    )
    clock.advance(timedelta(hours=1))
    now = clock.now()
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")

    assert (done.status, done.order_id) == ("completed", None)
    assert done.subscription_id is not None
    assert await checkouts.get_checkout(runtime, checkout.id) == done
    sub = await purchases.get_subscription(runtime, done.subscription_id)
    assert (sub.status, sub.company_id, sub.owner_email, sub.price_id) == (
        "active",
        company_id,
        "boss@acme.example",
        price_id,
    )
    assert (sub.seats, sub.assigned_seats, sub.available_seats) == (3, 0, 3)
    assert sub.billing_anchor == sub.current_period_start == now
    assert sub.current_period_end == now.replace(month=2)  # Jan 1 01:00 → Feb 1 01:00
    assert (sub.payment_method, sub.cancel_at_period_end, sub.pending_change) == (
        "pm_card_ok",
        False,
        None,
    )

    [invoice] = await _rows(runtime.engine, t.invoices)
    assert (invoice.number, invoice.status, invoice.reason) == (
        "INV-000001",
        "paid",
        "subscription_create",
    )
    assert (invoice.subscription_id, invoice.company_id, invoice.total) == (
        sub.id,
        company_id,
        3000,
    )
    assert (invoice.period_start, invoice.period_end, invoice.paid_at) == (
        now,
        sub.current_period_end,
        now,
    )
    [payment] = await _rows(runtime.engine, t.payments)
    assert (payment.status, payment.amount, payment.currency, payment.invoice_id) == (
        "succeeded",
        3000,
        "jpy",
        invoice.id,
    )
    assert (payment.checkout_id, payment.provider, payment.payment_method) == (
        checkout.id,
        "local",
        "pm_card_ok",
    )
    assert payment.provider_reference.startswith("py_local_")
    # A purchase creates no seat rows and grants nothing.
    assert await _rows(runtime.engine, t.seats) == []
    assert await _rows(runtime.engine, t.benefit_grants) == []
    [created] = await _events(runtime.engine, "subscription.created")
    assert (created["id"], created["company_id"], created["seats"]) == (
        sub.id,
        company_id,
        3,
    )
    [paid] = await _events(runtime.engine, "invoice.paid")
    assert (paid["id"], paid["number"], paid["total"]) == (invoice.id, "INV-000001", 3000)
    [completed] = await _events(runtime.engine, "checkout.completed")
    assert completed["subscription_id"] == sub.id


async def test_the_first_invoice_has_a_line_per_tier(runtime: Runtime) -> None:
    price_id = await pools.product(
        runtime.engine,
        benefits=0,
        tiers=[
            {"up_to": 10, "unit_amount": 1000},
            {"up_to": None, "unit_amount": 800, "flat_amount": 500},
        ],
        tiers_mode="graduated",
        base_amount=2900,
        included_seats=2,
        interval="year",
    )
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=14, customer_email="a@acme.example"
    )
    assert checkout.amount_due == 2900 + 10 * 1000 + 2 * 800 + 500
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    sub = await purchases.get_subscription(runtime, done.subscription_id)
    assert sub.current_period_end == sub.current_period_start.replace(year=2028)
    [invoice] = (await invoicing.list_invoices(runtime, subscription_id=sub.id)).data
    assert [
        (line.kind, line.quantity, line.unit_amount, line.amount) for line in invoice.lines
    ] == [
        ("base", 1, 2900, 2900),
        ("seats", 10, 1000, 10000),
        ("seats", 2, 800, 1600),
        ("seats", 1, 500, 500),
    ]
    assert [line.description for line in invoice.lines] == [
        "Base fee (includes 2 seats)",
        "Seats 3–12 (tier 1)",
        "Seats 13–14 (tier 2)",
        "Tier 2 flat fee",
    ]
    assert {(line.period_start, line.period_end) for line in invoice.lines} == {
        (sub.current_period_start, sub.current_period_end)
    }
    assert (invoice.subtotal, invoice.credit_applied, invoice.total) == (15000, 0, 15000)


async def test_confirming_a_one_time_price_creates_a_paid_order(runtime: Runtime) -> None:
    price_id = await pools.product(
        runtime.engine,
        benefits=1,
        interval=None,
        tiers=[{"up_to": None, "unit_amount": 4900}],
    )
    company_id = await _company(runtime)
    numbers = []
    for seats in (10, 10):
        checkout = await checkouts.create_checkout(
            runtime, price_id=price_id, seats=seats, company_id=company_id
        )
        done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
        assert (done.status, done.subscription_id) == ("completed", None)
        assert done.order_id is not None
        order = await purchases.get_order(runtime, done.order_id)
        assert (order.status, order.seats, order.amount, order.currency) == (
            "paid",
            10,
            49000,
            "usd",
        )
        assert (order.company_id, order.assigned_seats, order.available_seats) == (
            company_id,
            0,
            10,
        )
        [invoice] = (await invoicing.list_invoices(runtime, order_id=order.id)).data
        assert (invoice.status, invoice.reason, invoice.total) == ("paid", "order", 49000)
        assert (invoice.period_start, invoice.period_end) == (None, None)
        assert [(line.kind, line.quantity, line.amount) for line in invoice.lines] == [
            ("seats", 10, 49000)
        ]
        numbers.append(invoice.number)
    # Each order is its own pool, priced alone; invoice numbers have no gaps.
    assert numbers == ["INV-000001", "INV-000002"]
    assert len(await _rows(runtime.engine, t.orders)) == 2
    assert len(await _events(runtime.engine, "order.paid")) == 2
    assert len(await _events(runtime.engine, "invoice.paid")) == 2
    assert await _rows(runtime.engine, t.subscriptions) == []
    assert await _rows(runtime.engine, t.seats) == []


async def test_a_declined_card_creates_nothing_and_another_card_works(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    company_id = await _company(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=2, company_id=company_id
    )
    with pytest.raises(PaymentFailed) as caught:
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_declined")
    assert caught.value.code == "payment_failed"
    assert caught.value.detail == "Your card was declined."
    assert (await checkouts.get_checkout(runtime, checkout.id)).status == "open"
    for table in (t.subscriptions, t.orders, t.invoices, t.invoice_lines, t.seats):
        assert await _rows(runtime.engine, table) == []
    # The attempt is on record, nothing else.
    [failed] = await _rows(runtime.engine, t.payments)
    assert (failed.status, failed.failure_reason, failed.invoice_id, failed.amount) == (
        "failed",
        "Your card was declined.",
        None,
        2000,
    )
    assert len(await _events(runtime.engine, "checkout.payment_failed")) == 1

    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.status == "completed"
    [invoice] = await _rows(runtime.engine, t.invoices)
    assert invoice.number == "INV-000001"  # the declined attempt used no number
    statuses = sorted(p.status for p in await _rows(runtime.engine, t.payments))
    assert statuses == ["failed", "succeeded"]


@pytest.mark.parametrize("method", ["", None, 42, "x" * 101])
async def test_a_malformed_payment_method_is_rejected(runtime: Runtime, method: Any) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    before = await _counts(runtime.engine)
    with pytest.raises(ValidationFailed) as caught:
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method=method)
    assert [f for f, _ in caught.value.errors] == ["payment_method"]
    assert await _counts(runtime.engine) == before


async def test_confirming_twice_is_checkout_not_open(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    before = await _counts(runtime.engine)
    with pytest.raises(Conflict) as caught:
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert caught.value.code == "checkout_not_open"
    assert await _counts(runtime.engine) == before


async def test_concurrent_confirms_create_one_purchase(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    outcomes = await asyncio.gather(
        *(
            checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    completed = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(completed), len(refused)) == (1, 3)
    assert {o.code for o in refused} == {"checkout_not_open"}
    assert len(await _rows(runtime.engine, t.subscriptions)) == 1
    assert len(await _rows(runtime.engine, t.invoices)) == 1


async def test_a_retry_after_a_crash_never_charges_twice(
    runtime: Runtime, gateway: LocalGateway
) -> None:
    """``pm_card_fail_after_first`` declines a customer's second charge: the retried confirm goes
    through only because it reuses the first charge's idempotency key."""
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    method = "pm_card_fail_after_first"
    # The provider charged, then the process died before the purchase was written.
    first = await gateway.charge(
        PaymentRequest(
            amount=1000,
            currency="jpy",
            payment_method=method,
            customer="a@acme.example",
            description="first try",
            idempotency_key=f"checkout:{checkout.id}:{method}",
        )
    )
    assert first.succeeded
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method=method)
    assert done.status == "completed"
    [payment] = await _rows(runtime.engine, t.payments)
    assert payment.provider_reference == first.reference


async def test_an_expired_checkout_cannot_be_confirmed(runtime: Runtime, clock: FixedClock) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    clock.advance(timedelta(hours=25))
    assert (await checkouts.get_checkout(runtime, checkout.id)).status == "expired"
    with pytest.raises(Conflict) as caught:
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert caught.value.code == "checkout_not_open"
    [row] = await _rows(runtime.engine, t.checkouts)
    assert row.status == "expired"
    assert len(await _events(runtime.engine, "checkout.expired")) == 1
    for table in (t.payments, t.subscriptions, t.invoices):
        assert await _rows(runtime.engine, table) == []
    with pytest.raises(Conflict):  # and stays so
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert len(await _events(runtime.engine, "checkout.expired")) == 1


async def test_a_price_archived_after_the_checkout_is_not_charged(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="a@acme.example"
    )
    await _archive(runtime.engine, price_id)
    before = await _counts(runtime.engine)
    with pytest.raises(Conflict) as caught:
        await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert caught.value.code == "price_archived"
    assert await _counts(runtime.engine) == before
    assert (await checkouts.get_checkout(runtime, checkout.id)).status == "open"


async def test_a_zero_amount_is_not_charged(runtime: Runtime) -> None:
    price_id = await _yen(runtime, included_seats=5)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=3, customer_email="a@acme.example"
    )
    assert checkout.amount_due == 0
    # Even a card that would be declined: nothing is charged.
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_declined")
    assert done.status == "completed"
    assert await _rows(runtime.engine, t.payments) == []
    [invoice] = await _rows(runtime.engine, t.invoices)
    assert (invoice.status, invoice.total, invoice.number) == ("paid", 0, "INV-000001")


async def test_an_email_checkout_buys_an_owner_scoped_purchase(runtime: Runtime) -> None:
    price_id = await _yen(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=2, customer_email="Founder@Start.example"
    )
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    sub = await purchases.get_subscription(runtime, done.subscription_id)
    assert (sub.company_id, sub.owner_email) == (None, "founder@start.example")
    [invoice] = await _rows(runtime.engine, t.invoices)
    assert (invoice.company_id, invoice.subscription_id) == (None, sub.id)
    with pytest.raises(NotFound):  # not visible to a company's scope
        await purchases.get_subscription(runtime, sub.id, scope_company_id="co_any")
