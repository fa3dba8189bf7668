"""Billing periods keep the anchor day where the month has it, in UTC."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatledger.pricing import Period, add_months, period_at, period_containing


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_month_end_anchor_comes_back_when_the_month_has_the_day() -> None:
    anchor = utc(2027, 1, 31)
    ends = [period_at(anchor, "month", i).end for i in range(4)]
    assert ends == [utc(2027, 2, 28), utc(2027, 3, 31), utc(2027, 4, 30), utc(2027, 5, 31)]


def test_leap_years() -> None:
    assert add_months(utc(2028, 1, 31), 1) == utc(2028, 2, 29)
    assert period_at(utc(2028, 2, 29), "year", 0).end == utc(2029, 2, 28)
    assert period_at(utc(2028, 2, 29), "year", 3).end == utc(2032, 2, 29)


def test_periods_are_contiguous_and_keep_time_of_day() -> None:
    anchor = utc(2027, 1, 31, 13, 45, 7)
    periods = [period_at(anchor, "month", i) for i in range(14)]
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
    assert periods[-1].end == utc(2028, 3, 31, 13, 45, 7)


def test_year_periods() -> None:
    assert period_at(utc(2027, 4, 16), "year", 0) == Period(utc(2027, 4, 16), utc(2028, 4, 16))


def test_negative_month_steps() -> None:
    assert add_months(utc(2027, 3, 31), -1) == utc(2027, 2, 28)
    assert add_months(utc(2027, 1, 15), -13) == utc(2025, 12, 15)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
    st.integers(0, 3000),
    st.sampled_from(["month", "year"]),
)
def test_period_containing_finds_the_period(anchor: datetime, days: int, interval: str) -> None:
    anchor = anchor.replace(tzinfo=UTC)
    moment = anchor + timedelta(days=days, seconds=17)
    index, period = period_containing(anchor, interval, moment)  # type: ignore[arg-type]
    assert moment in period
    assert period == period_at(anchor, interval, index)  # type: ignore[arg-type]


def test_times_must_be_utc() -> None:
    with pytest.raises(ValueError, match="UTC"):
        period_at(datetime(2027, 1, 1), "month", 0)
    with pytest.raises(ValueError, match="UTC"):
        period_at(datetime(2027, 1, 1, tzinfo=timezone(timedelta(hours=2))), "month", 0)


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end after"):
        Period(utc(2027, 1, 2), utc(2027, 1, 1))
