"""True-up lines, pure: the peak rule, one rounding per line, the time held, quarters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatledger.pricing import (
    Period,
    SeatPrice,
    SeatStep,
    billed_at,
    change_line,
    peak_steps,
    quarter_ends,
    true_up_line,
    true_up_lines,
)
from seatledger.pricing.true_up import exact_amount


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


PER_SEAT = SeatPrice.from_mapping(
    {"currency": "usd", "interval": "month", "tiers": [{"up_to": None, "unit_amount": 1000}]}
)
GRADUATED = SeatPrice.from_mapping(
    {
        "currency": "usd",
        "interval": "month",
        "tiers_mode": "graduated",
        "base_amount": 2900,
        "included_seats": 2,
        "tiers": [
            {"up_to": 5, "unit_amount": 1000, "flat_amount": 300},
            {"up_to": None, "unit_amount": 700},
        ],
    }
)
JANUARY = Period(utc(2027, 1, 1), utc(2027, 2, 1))


def test_3_6_4_7_bills_3_to_6_and_6_to_7() -> None:
    counts = [(utc(2027, 1, 16, 12), 6), (utc(2027, 1, 20), 4), (utc(2027, 1, 24), 7)]
    steps = peak_steps(3, counts)
    assert steps == [SeatStep(utc(2027, 1, 16, 12), 3, 6), SeatStep(utc(2027, 1, 24), 6, 7)]
    lines = true_up_lines(PER_SEAT, JANUARY, steps)
    assert [(x.description, x.quantity, x.unit_amount, x.amount) for x in lines] == [
        ("Seats 3 → 6, Jan 16 – Feb 1", 3, 500, 1500),  # 3000 × 15.5/31
        ("Seats 6 → 7, Jan 24 – Feb 1", 1, 258, 258),  # 1000 × 8/31 = 258.06
    ]
    assert {x.kind for x in lines} == {"proration"}


def test_a_count_at_or_below_the_peak_adds_nothing() -> None:
    counts = [
        (utc(2027, 1, 5), 6),
        (utc(2027, 1, 6), 4),
        (utc(2027, 1, 7), 6),
        (utc(2027, 1, 8), 5),
    ]
    assert peak_steps(3, counts) == [SeatStep(utc(2027, 1, 5), 3, 6)]
    assert peak_steps(8, counts) == []


def test_held_to_a_cancellation_bills_the_time_held() -> None:
    step = SeatStep(utc(2027, 1, 16, 12), 3, 6)
    line = true_up_line(PER_SEAT, JANUARY, step, until=utc(2027, 1, 24))
    # 3000 × 7.5/31 = 725.81
    assert (line.description, line.quantity, line.unit_amount, line.amount) == (
        "Seats 3 → 6, Jan 16 – Jan 24",
        3,
        242,
        726,
    )
    assert true_up_line(PER_SEAT, JANUARY, step, until=step.at).amount == 0


def test_a_step_must_rise() -> None:
    with pytest.raises(ValueError, match="rises"):
        SeatStep(utc(2027, 1, 2), 5, 5)


def test_quarters_of_a_year() -> None:
    year = Period(utc(2027, 1, 31), utc(2028, 1, 31))
    assert quarter_ends(year) == (
        utc(2027, 4, 30),
        utc(2027, 7, 31),
        utc(2027, 10, 31),
        utc(2028, 1, 31),
    )
    assert billed_at(year, utc(2027, 2, 1)) == utc(2027, 4, 30)
    assert billed_at(year, utc(2027, 4, 30)) == utc(2027, 7, 31)  # a quarter end opens the next
    assert billed_at(year, utc(2027, 12, 1)) == utc(2028, 1, 31)


def test_the_annual_worked_example() -> None:
    year_price = SeatPrice.from_mapping(
        {"currency": "usd", "interval": "year", "tiers": [{"up_to": None, "unit_amount": 12000}]}
    )
    year = Period(utc(2027, 1, 1), utc(2028, 1, 1))
    lines = true_up_lines(
        year_price, year, [SeatStep(utc(2027, 2, 15), 5, 8), SeatStep(utc(2027, 8, 1), 8, 10)]
    )
    assert [x.amount for x in lines] == [31562, 10060]  # 36000 × 320/365, 24000 × 153/365


seconds = st.integers(min_value=0, max_value=31 * 86400 - 1)
counts = st.lists(st.tuples(seconds, st.integers(1, 40)), max_size=8)


def _direct(
    price: SeatPrice, period: Period, start: int, moments: list[tuple[int, int]]
) -> Fraction:
    """The true-up straight from its definition: the period's price at the running peak minus
    the price at the start, integrated over the period, as a share of the whole period."""
    total = int((period.end - period.start).total_seconds())
    changes = sorted(moments)
    owed = Fraction(0)
    peak = start
    for i, (at, seats) in enumerate(changes):
        peak = max(peak, seats)
        until = changes[i + 1][0] if i + 1 < len(changes) else total
        owed += Fraction(
            (price.period_amount(peak) - price.period_amount(start)) * (until - at), total
        )
    return owed


@given(start=st.integers(1, 40), moments=counts, graduated=st.booleans())
def test_the_lines_add_up_to_the_direct_computation(
    start: int, moments: list[tuple[int, int]], graduated: bool
) -> None:
    price = GRADUATED if graduated else PER_SEAT
    steps = peak_steps(
        start, [(JANUARY.start + timedelta(seconds=at), seats) for at, seats in moments]
    )
    exact = sum((exact_amount(price, JANUARY, step) for step in steps), Fraction(0))
    assert exact == _direct(price, JANUARY, start, moments)
    billed = sum(line.amount for line in true_up_lines(price, JANUARY, steps))
    # One rounding per line: at most half a minor unit each.
    assert abs(billed - exact) <= Fraction(len(steps), 2)
    # Each step rises from the peak before it.
    assert all(a.after == b.before for a, b in pairwise(steps))
    assert all(s.after > s.before for s in steps)


@given(at=seconds, before=st.integers(1, 30), added=st.integers(1, 30))
def test_held_to_the_end_a_rise_is_its_proration_line(at: int, before: int, added: int) -> None:
    moment = JANUARY.start + timedelta(seconds=at)
    step = SeatStep(moment, before, before + added)
    line = true_up_line(GRADUATED, JANUARY, step)
    proration = change_line(
        "x",
        GRADUATED.period_amount(before),
        GRADUATED.period_amount(before + added),
        JANUARY,
        moment,
    )
    assert line.amount == proration.amount
    assert line.quantity == added
