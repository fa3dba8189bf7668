"""Seat prices as Stripe Prices: what Stripe bills for the items equals seatledger's quote.

The items are made through the official SDK in the fake, which computes what Stripe bills for
a tiered or flat Price at a quantity (``tests.fakes.stripe.prices.amount``); the sum over the
subscription's items is compared with ``SeatPrice.period_amount`` for many seat counts.
"""

from __future__ import annotations

from typing import Any

import pytest

from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.pricing.price import SeatPrice
from seatledger.services.provider_subscriptions import start_billing
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import FakeStripe
from tests.fakes.stripe.invoices import subscription_of
from tests.fakes.stripe.prices import amount
from tests.integration import shop

pytestmark = pytest.mark.db

TIERS = [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}]
FLAT = [{"up_to": 3, "unit_amount": 0, "flat_amount": 500}, {"up_to": None, "unit_amount": 700}]
PRICES = {
    "volume": {"tiers_mode": "volume", "tiers": TIERS},
    "graduated": {"tiers_mode": "graduated", "tiers": TIERS},
    "base_included": {
        "base_amount": 2900,
        "included_seats": 5,
        "tiers": [{"up_to": None, "unit_amount": 1500}],
    },
    "base_graduated_flat": {
        "tiers_mode": "graduated",
        "base_amount": 1000,
        "included_seats": 2,
        "tiers": FLAT,
    },
    "included_free": {"included_seats": 3, "tiers_mode": "volume", "tiers": FLAT},
}


def _billed(fake: FakeStripe, subscription_id: str) -> int:
    sub = fake.store.objects[subscription_id]
    return sum(amount(item["price"], item["quantity"]) for item in sub["items"]["data"])


@pytest.mark.parametrize("name", sorted(PRICES))
async def test_stripe_bills_what_seatledger_quotes(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe, name: str
) -> None:
    (price_id,) = await shop.product(runtime, shop.per_seat(0, **PRICES[name]))
    company_id = await shop.company(runtime)
    seat_price = SeatPrice.from_mapping({"currency": "usd", "interval": "month", **PRICES[name]})
    for seats in (1, 2, 3, 5, 6, 8, 10, 11, 14, 16, 40):
        sub_id = await shop.subscribe(runtime, price_id, company_id, seats)
        remote = await start_billing(runtime, billing, sub_id, customer=customer)
        assert _billed(fake, remote.id) == seat_price.period_amount(seats), seats
        (invoice,) = [i for i in fake.objects("invoice") if subscription_of(i) == remote.id]
        assert invoice["total"] == seat_price.period_amount(seats)


async def test_prices_are_made_once_and_kept(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    (price_id,) = await shop.product(runtime, shop.per_seat(0, **PRICES["base_included"]))
    company_id = await shop.company(runtime)
    for seats in (3, 9):
        sub_id = await shop.subscribe(runtime, price_id, company_id, seats)
        await start_billing(runtime, billing, sub_id, customer=customer)
    prices: list[dict[str, Any]] = fake.objects("price")
    assert len(prices) == 2
    base, seats_price = sorted(prices, key=lambda p: p["billing_scheme"])
    assert (base["billing_scheme"], base["unit_amount"]) == ("per_unit", 2900)
    assert seats_price["billing_scheme"] == "tiered"
    assert seats_price["tiers"] == [{"up_to": None, "unit_amount": 1500, "flat_amount": 0}]
    assert base["recurring"]["interval"] == seats_price["recurring"]["interval"] == "month"
    assert len(fake.objects("product")) == 1
