"""Pricing through the public API: quotes (``period_amount``) and proration lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from benchmarks.timing import ops_per_second
from seatledger.pricing import Period, SeatPrice, change_line

THREE_TIERS = [
    {"up_to": 5, "unit_amount": 1000, "flat_amount": 0},
    {"up_to": 10, "unit_amount": 800, "flat_amount": 100},
    {"up_to": None, "unit_amount": 500, "flat_amount": 0},
]


def _price(mode: str) -> SeatPrice:
    return SeatPrice.from_mapping(
        {"currency": "usd", "interval": "month", "tiers_mode": mode, "tiers": THREE_TIERS}
    )


def quote(mode: str) -> float:
    price = _price(mode)
    seats = [1 + (i * 7) % 40 for i in range(1000)]  # spread over all three tiers

    def run(n: int) -> None:
        amount = price.period_amount
        for _ in range(n // 1000):
            for s in seats:
                amount(s)

    return ops_per_second(run, ops=1_000_000)


def proration() -> float:
    price = _price("volume")
    period = Period(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 2, 1, tzinfo=UTC))
    moments = [period.start + timedelta(seconds=i * 2677) for i in range(1000)]

    def run(n: int) -> None:
        old, new = price.period_amount(3), price.period_amount(8)
        for _ in range(n // 1000):
            for at in moments:
                change_line("Seats 3 → 8", old, new, period, at)

    return ops_per_second(run, ops=200_000)


def collect() -> dict[str, dict[str, float | str]]:
    return {
        "pricing.quote_volume": {"value": round(quote("volume")), "unit": "quotes/s"},
        "pricing.quote_graduated": {"value": round(quote("graduated")), "unit": "quotes/s"},
        "pricing.proration": {"value": round(proration()), "unit": "lines/s"},
    }
