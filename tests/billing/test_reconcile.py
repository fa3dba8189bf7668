"""Reconciliation against edits made in Stripe's dashboard (seed 001), through the official SDK
against the fake, as the dashboard would make them: quantity lowered (above and below the
holders), the price swapped to a legacy price (one seatledger made, and one it did not), the
subscription canceled in Stripe; and Stripe down (nothing changed, left for later)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.catalog import load_price
from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.services import provider_subscriptions, purchases, seats
from seatledger.services.provider_reconciliation import reconcile
from seatledger.services.runtime import Runtime
from seatledger.worker.loop import run_worker
from tests.fakes.stripe import FakeStripe
from tests.integration import shop

pytestmark = pytest.mark.db


async def _billed(
    rt: Runtime, billing: StripeBilling, customer: str, seat_count: int, holders: int, **price: Any
) -> tuple[str, str]:
    """A subscription of ``seat_count`` seats billed by Stripe, ``holders`` of them assigned;
    answers its id and Stripe's."""
    (price_id,) = await shop.product(rt, shop.per_seat(1000, **price))
    company_id = await shop.company(rt)
    sub_id = await shop.subscribe(rt, price_id, company_id, seat_count)
    for n in range(holders):
        await seats.assign_seat(rt, subscription_id=sub_id, email=f"p{n}@acme.test")
    remote = await provider_subscriptions.start_billing(rt, billing, sub_id, customer=customer)
    return sub_id, remote.id


async def _dashboard_items(
    billing: StripeBilling, provider_id: str, items: list[dict[str, Any]]
) -> None:
    params: Any = {"items": items, "proration_behavior": "none"}
    await billing.client.v1.subscriptions.update_async(provider_id, params)


async def _seats_item(billing: StripeBilling, provider_id: str) -> Any:
    sub = await billing.client.v1.subscriptions.retrieve_async(provider_id)
    return sub["items"].data[-1]


async def test_a_quantity_lowered_below_the_holders_is_clamped_and_reported(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 5, holders=4)
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(billing, provider_id, [{"id": item.id, "quantity": 2}])

    done = await reconcile(runtime, billing)

    (repair,) = done.repairs
    assert (repair.action, repair.seats_before, repair.seats_after) == ("clamped", 5, 4)
    assert not repair.pushed_back
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 4
    (event,) = await shop.events(runtime.engine, "subscription.seats_drift_detected")
    assert (event["stripe_seats"], event["covered_seats"], event["holders"]) == (2, 4, 4)
    assert event["subscription"]["id"] == sub_id
    assert (await _seats_item(billing, provider_id)).quantity == 2  # Stripe left as it is
    assert done.summary() == "1 subscriptions checked, 1 repaired, 0 flagged"
    again = await reconcile(runtime, billing)
    assert again.repairs == []  # the same drift: reported once
    assert len(await shop.events(runtime.engine, "subscription.seats_drift_detected")) == 1
    await _dashboard_items(billing, provider_id, [{"id": item.id, "quantity": 1}])
    (moved,) = (await reconcile(runtime, billing)).repairs
    assert (moved.action, moved.seats_before, moved.seats_after) == ("clamped", 4, 4)
    assert len(await shop.events(runtime.engine, "subscription.seats_drift_detected")) == 2
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 4


async def test_push_back_sends_the_covered_count_to_stripe(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    _, provider_id = await _billed(runtime, billing, customer, 5, holders=3)
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(billing, provider_id, [{"id": item.id, "quantity": 1}])
    invoices_before = len(fake.objects("invoice"))

    (repair,) = (await reconcile(runtime, billing, push_back=True)).repairs

    assert (repair.action, repair.seats_after, repair.pushed_back) == ("clamped", 3, True)
    assert (await _seats_item(billing, provider_id)).quantity == 3
    assert len(fake.objects("invoice")) == invoices_before  # pushed without proration
    assert (await reconcile(runtime, billing, push_back=True)).repairs == []


async def test_a_quantity_lowered_above_the_holders_is_followed_without_drift(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 6, holders=2)
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(billing, provider_id, [{"id": item.id, "quantity": 4}])

    (repair,) = (await reconcile(runtime, billing)).repairs

    assert (repair.action, repair.seats_after) == ("resized", 4)
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 4
    assert await shop.events(runtime.engine, "subscription.seats_drift_detected") == []


async def test_a_legacy_price_seatledger_made_is_translated_with_its_own_included_seats(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 3, holders=1)
    (legacy_id,) = await shop.product(
        runtime, shop.per_seat(900, base_amount=2000, included_seats=5), name="Legacy"
    )
    legacy = await _seat_price(runtime, legacy_id)
    legacy_prices = await billing.ensure_prices(legacy_id, legacy, "legacy")
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(
        billing,
        provider_id,
        [
            {"id": item.id, "deleted": True},
            {"price": legacy_prices.base, "quantity": 1},
            {"price": legacy_prices.seats, "quantity": 2},
        ],
    )

    (repair,) = (await reconcile(runtime, billing)).repairs

    assert (repair.action, repair.seats_after, repair.stripe_seats) == ("resized", 7, 7)
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 7


async def test_a_price_seatledger_never_made_is_flagged_and_nothing_changes(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 3, holders=1)
    product = await billing.client.v1.products.create_async({"name": "Old plan"})
    other = await billing.client.v1.prices.create_async(
        {
            "product": product.id,
            "currency": "usd",
            "unit_amount": 700,
            "recurring": {"interval": "month"},
        }
    )
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(billing, provider_id, [{"id": item.id, "price": other.id}])

    done = await reconcile(runtime, billing, push_back=True)

    (repair,) = done.repairs
    assert repair.action == "untranslatable"
    assert other.id in repair.line()
    assert done.summary() == "1 subscriptions checked, 0 repaired, 1 flagged"
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 3
    assert (await _seats_item(billing, provider_id)).price.id == other.id


async def test_a_subscription_canceled_in_stripe_is_canceled_with_its_seats(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 3, holders=2)
    await billing.client.v1.subscriptions.cancel_async(provider_id)

    (repair,) = (await reconcile(runtime, billing)).repairs

    assert repair.action == "canceled"
    subscription = await purchases.get_subscription(runtime, sub_id)
    assert subscription.status == "canceled"
    live = await shop.count(
        runtime.engine,
        t.seats,
        t.seats.c.pool_id == sub_id,
        t.seats.c.status != "revoked",
    )
    assert live == 0
    assert (await reconcile(runtime, billing)).repairs == []  # canceled: not checked again


async def test_stripe_down_changes_nothing_and_is_left_for_later(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 5, holders=4)
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(billing, provider_id, [{"id": item.id, "quantity": 2}])
    fake.store.knobs.down = True

    done = await reconcile(runtime, billing)

    assert (done.unavailable, done.repairs) == (1, [])
    assert "left for later" in done.summary()
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 5
    fake.store.knobs.down = False
    assert [r.action for r in (await reconcile(runtime, billing)).repairs] == ["clamped"]


async def _seat_price(rt: Runtime, price_id: str) -> Any:
    async with rt.engine.connect() as connection:
        price = await load_price(connection, price_id)
    assert price is not None
    return price.seat_price


async def test_the_worker_round_reconciles_and_says_what_it_repaired(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    sub_id, provider_id = await _billed(runtime, billing, customer, 5, holders=4)
    item = await _seats_item(billing, provider_id)
    await _dashboard_items(billing, provider_id, [{"id": item.id, "quantity": 2}])
    lines: list[str] = []

    assert await run_worker(
        replace(runtime, billing=billing), interval=1, once=True, echo=lines.append
    )

    assert lines[:2] == [
        f"{sub_id} ({provider_id}): clamped 5 → 4 seats (Stripe 2, holders 4)",
        "reconciliation: 1 subscriptions checked, 1 repaired, 0 flagged",
    ]
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 4
