"""SPEC §2 proration: exact fractions, one rounding per line, and the laws it obeys."""

from __future__ import annotations

import inspect
import itertools
import typing
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

import seatledger.pricing as pricing
from seatledger.pricing import (
    Period,
    SeatPrice,
    change_line,
    interval_switch,
    period_at,
    prorate,
    unused_fraction,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


VOLUME = SeatPrice.from_mapping(
    {
        "currency": "usd",
        "interval": "month",
        "tiers_mode": "volume",
        "tiers": [
            {"up_to": 5, "unit_amount": 1000},
            {"up_to": 10, "unit_amount": 800},
            {"up_to": None, "unit_amount": 500},
        ],
    }
)
JANUARY = Period(utc(2027, 1, 1), utc(2027, 2, 1))


def test_seat_increase_mid_period_is_one_line_with_a_description() -> None:
    # 3 → 8 seats on Jan 16 12:00: (6400 − 3000) × 15.5/31 = 1700.
    line = change_line(
        "Seats 3 → 8",
        VOLUME.period_amount(3),
        VOLUME.period_amount(8),
        JANUARY,
        utc(2027, 1, 16, 12),
    )
    assert (line.kind, line.quantity, line.amount) == ("proration", 1, 1700)
    assert line.unit_amount == 1700
    assert line.description == "Seats 3 → 8, Jan 16 – Feb 1"


def test_seat_decrease_is_a_credit() -> None:
    # 8 → 4 on Feb 15: (4000 − 6400) × 14/28 = −1200.
    february = Period(utc(2027, 2, 1), utc(2027, 3, 1))
    line = change_line("Seats 8 → 4", 6400, 4000, february, utc(2027, 2, 15))
    assert line.amount == -1200


def test_increase_in_a_31_day_month_rounds_half_even() -> None:
    # 1200 per seat, 10 → 15 seats on Mar 11 (period Mar 1 – Apr 1): 6000 × 21/31 = 4064.5… → 4065.
    march = Period(utc(2027, 3, 1), utc(2027, 4, 1))
    assert change_line("Seats 10 → 15", 12000, 18000, march, utc(2027, 3, 11)).amount == 4065


def test_exact_half_rounds_to_even() -> None:
    period = Period(utc(2027, 1, 1), utc(2027, 1, 1, 0, 0, 4))
    assert prorate(10, period, utc(2027, 1, 1, 0, 0, 3)) == 2  # 2.5 → 2
    assert prorate(6, period, utc(2027, 1, 1, 0, 0, 3)) == 2  # 1.5 → 2
    assert prorate(18, period, utc(2027, 1, 1, 0, 0, 1)) == 14  # 13.5 → 14
    assert prorate(2, period, utc(2027, 1, 1, 0, 0, 3)) == 0  # 0.5 → 0
    assert prorate(-2, period, utc(2027, 1, 1, 0, 0, 3)) == 0  # −0.5 → 0


def test_unused_fraction_counts_whole_seconds_exactly() -> None:
    assert unused_fraction(JANUARY, utc(2027, 1, 16, 12)) == Fraction(1, 2)
    assert unused_fraction(JANUARY, utc(2027, 1, 1)) == 1
    assert unused_fraction(JANUARY, utc(2027, 2, 1)) == 0
    assert unused_fraction(JANUARY, utc(2026, 12, 1)) == 1
    assert unused_fraction(JANUARY, utc(2027, 3, 1)) == 0
    # Sub-second parts do not count.
    half_second = utc(2027, 1, 16, 12) + timedelta(microseconds=500_000)
    assert unused_fraction(JANUARY, half_second) == Fraction(1, 2)


def test_interval_switch_credits_unused_time_and_charges_a_full_new_period() -> None:
    monthly = SeatPrice.from_mapping(
        {"currency": "usd", "interval": "month", "tiers": [{"up_to": None, "unit_amount": 1000}]}
    )
    annual = SeatPrice.from_mapping(
        {"currency": "usd", "interval": "year", "tiers": [{"up_to": None, "unit_amount": 10000}]}
    )
    april = Period(utc(2027, 4, 1), utc(2027, 5, 1))
    switch = interval_switch(monthly.period_amount(5), april, annual, 5, utc(2027, 4, 16))
    assert switch.credit.kind == "credit"
    assert switch.credit.amount == -2500
    assert switch.credit.description == "Unused time, Apr 16 – May 1"
    assert [(x.kind, x.quantity, x.unit_amount, x.amount) for x in switch.charges] == [
        ("seats", 5, 10000, 50000)
    ]
    assert switch.total == 47500
    assert switch.period == Period(utc(2027, 4, 16), utc(2028, 4, 16))


def test_span_names_years_when_they_differ() -> None:
    december = Period(utc(2027, 12, 1), utc(2028, 1, 1))
    line = change_line("Seats 1 → 2", 1000, 2000, december, utc(2027, 12, 16))
    assert line.description == "Seats 1 → 2, Dec 16, 2027 – Jan 1, 2028"


# -- laws (hypothesis) -------------------------------------------------------------------------

amounts = st.integers(0, 10**9)
seat_counts = st.integers(1, 5000)


@st.composite
def graduated_prices(draw: st.DrawFn) -> SeatPrice:
    bounds = sorted(set(draw(st.lists(st.integers(1, 2000), max_size=5))))
    tiers = [
        {"up_to": b, "unit_amount": draw(amounts), "flat_amount": draw(amounts)} for b in bounds
    ]
    tiers.append({"up_to": None, "unit_amount": draw(amounts), "flat_amount": draw(amounts)})
    return SeatPrice.from_mapping(
        {
            "currency": "usd",
            "interval": "month",
            "tiers_mode": "graduated",
            "tiers": tiers,
            "base_amount": draw(amounts),
            "included_seats": draw(st.integers(0, 20)),
        }
    )


@st.composite
def moments(draw: st.DrawFn) -> tuple[Period, datetime]:
    anchor = draw(st.datetimes(datetime(2020, 1, 1), datetime(2060, 1, 1))).replace(tzinfo=UTC)
    period = period_at(anchor, draw(st.sampled_from(["month", "year"])), 0)
    seconds = (period.end - period.start) // timedelta(seconds=1)
    return period, period.start + timedelta(seconds=draw(st.integers(0, seconds)))


@given(graduated_prices(), seat_counts)
def test_graduated_totals_never_fall_as_seats_rise(price: SeatPrice, seats: int) -> None:
    assert price.period_amount(seats + 1) >= price.period_amount(seats)


@given(graduated_prices(), seat_counts)
def test_lines_add_up_to_the_period_amount(price: SeatPrice, seats: int) -> None:
    assert sum(line.amount for line in price.lines(seats)) == price.period_amount(seats)


@given(amounts, amounts, moments())
def test_change_at_period_start_is_the_full_difference_and_at_its_end_zero(
    old: int, new: int, moment: tuple[Period, datetime]
) -> None:
    period, _ = moment
    assert change_line("x", old, new, period, period.start).amount == new - old
    assert change_line("x", old, new, period, period.end).amount == 0


@given(amounts, amounts, moments())
def test_sign_follows_the_amount_difference(
    old: int, new: int, moment: tuple[Period, datetime]
) -> None:
    period, at = moment
    amount = change_line("x", old, new, period, at).amount
    if new > old:
        assert amount >= 0
    elif new < old:
        assert amount <= 0
    else:
        assert amount == 0


@given(amounts, amounts, amounts, moments())
def test_two_changes_at_one_instant_equal_the_direct_change(
    a: int, b: int, c: int, moment: tuple[Period, datetime]
) -> None:
    period, at = moment
    two = change_line("x", a, b, period, at).amount + change_line("x", b, c, period, at).amount
    direct = change_line("x", a, c, period, at).amount
    assert abs(two - direct) <= 2  # at most one minor unit per line


@given(amounts, moments(), st.data())
def test_prorations_of_a_split_period_add_up_to_the_whole(
    amount: int, moment: tuple[Period, datetime], data: st.DataObject
) -> None:
    period, cut = moment
    later = data.draw(st.integers(0, (period.end - cut) // timedelta(seconds=1)))
    second_cut = cut + timedelta(seconds=later)
    total = (period.end - period.start) // timedelta(seconds=1)
    # Each piece is what the time [a, b) is worth: what is unused at a minus what is unused at b.
    bounds = [period.start, cut, second_cut, period.end]
    pieces = []
    for a, b in itertools.pairwise(bounds):
        piece = prorate(amount, period, a) - prorate(amount, period, b)
        pieces.append(piece)
        exact = Fraction(amount * ((b - a) // timedelta(seconds=1)), total)
        # Two roundings of half a unit at most each: a piece is within one unit of its share.
        assert abs(piece - exact) <= 1, (a, b, piece, exact)
    assert sum(pieces) == amount  # the whole period is worth the whole amount, exactly
    # And prorate itself is the exact unused share rounded once, half to even.
    unused = Fraction(amount * ((period.end - cut) // timedelta(seconds=1)), total)
    assert abs(prorate(amount, period, cut) - unused) <= Fraction(1, 2)


def test_money_never_passes_through_float() -> None:
    for name in pricing.__all__:
        obj = getattr(pricing, name)
        callables = [obj]
        if inspect.isclass(obj):
            callables = [m for _, m in inspect.getmembers(obj, inspect.isfunction)]
        for function in callables:
            if not callable(function) or not hasattr(function, "__code__"):
                continue
            hints = typing.get_type_hints(function)
            assert all("float" not in repr(hint) for hint in hints.values()), function
