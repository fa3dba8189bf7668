"""Billing periods: calendar months or years counted from a billing anchor, in UTC.

Period ``k`` of a subscription is ``[anchor + k intervals, anchor + (k + 1) intervals)``. Each
bound is computed from the anchor, never from the previous bound, so the anchor day comes back
whenever the month has it: anchored on Jan 31, periods end Feb 28 (29 in leap years), Mar 31,
Apr 30, May 31. A year from Feb 29 is Feb 28.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

from seatledger.pricing.price import Interval


def require_utc(moment: datetime, name: str = "time") -> datetime:
    """Times are aware and in UTC; a naive time is a programming error, not input."""
    if moment.tzinfo is None or moment.utcoffset() != UTC.utcoffset(None):
        raise ValueError(f"{name} must be an aware UTC datetime, got {moment!r}")
    return moment


def add_months(anchor: datetime, months: int) -> datetime:
    """``anchor`` moved by whole calendar months, its day clamped to the month's length."""
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month0 = divmod(index, 12)
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return anchor.replace(year=year, month=month0 + 1, day=day)


def add_intervals(anchor: datetime, interval: Interval, count: int) -> datetime:
    """The bound ``count`` periods after ``anchor``."""
    return add_months(anchor, count * (12 if interval == "year" else 1))


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_utc(self.start, "start")
        require_utc(self.end, "end")
        if self.end <= self.start:
            raise ValueError(f"a period must end after it starts: {self.start} – {self.end}")

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def period_at(anchor: datetime, interval: Interval, index: int) -> Period:
    """The ``index``-th period (0 is the first) of a subscription anchored at ``anchor``."""
    require_utc(anchor, "anchor")
    return Period(
        add_intervals(anchor, interval, index), add_intervals(anchor, interval, index + 1)
    )


def period_containing(anchor: datetime, interval: Interval, moment: datetime) -> tuple[int, Period]:
    """The index and bounds of the period that contains ``moment`` (``moment >= anchor``)."""
    require_utc(moment, "moment")
    if moment < anchor:
        raise ValueError("a moment before the anchor belongs to no period")
    step = 12 if interval == "year" else 1
    months = (moment.year - anchor.year) * 12 + (moment.month - anchor.month)
    index = max(0, months // step - 1)  # the guess is at most one period early
    while True:
        period = period_at(anchor, interval, index)
        if moment < period.end:
            return index, period
        index += 1
