"""Proration: what a change in the middle of a period is worth.

For a period ``[start, end)`` and a change at ``t``, the unused share is
``f = (end − t) / (end − start)``, counted in whole seconds and kept as an exact fraction.

* A seat-count or same-interval price change bills ONE line,
  ``round_half_even((new_amount − old_amount) × f)``: positive is a charge, negative a credit.
  Whether a change is an increase or a decrease follows the sign of this amount, not of the
  seat delta (in volume mode 10 → 11 seats can be cheaper).
* A change of interval ends the old period at ``t``: a credit ``−round_half_even(old × f)``
  and a charge for a whole new period starting at ``t`` (the anchor moves to ``t``).

Each line is rounded on its own, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from seatledger.pricing.money import div_round_half_even
from seatledger.pricing.periods import Period, add_intervals, require_utc
from seatledger.pricing.price import Line, SeatPrice

_SECOND = timedelta(seconds=1)
# English month abbreviations, fixed: descriptions must not change with the process locale.
_MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _seconds(span: timedelta) -> int:
    return span // _SECOND


def _unused(period: Period, at: datetime) -> tuple[int, int]:
    """(unused seconds, period seconds) with ``at`` clamped into the period.

    ``at`` counts from its whole second: a change during second X is a change at X.
    """
    require_utc(at, "at")
    at = at.replace(microsecond=0)
    total = _seconds(period.end - period.start)
    if at <= period.start:
        return total, total
    if at >= period.end:
        return 0, total
    return _seconds(period.end - at), total


def unused_fraction(period: Period, at: datetime) -> Fraction:
    """The share of ``period`` left after ``at``: 1 at its start, 0 at its end."""
    unused, total = _unused(period, at)
    return Fraction(unused, total)


def prorate(amount: int, period: Period, at: datetime) -> int:
    """``round_half_even(amount × f)``: the unused share of ``amount``, in minor units."""
    unused, total = _unused(period, at)
    return div_round_half_even(amount * unused, total)


def describe_span(start: datetime, end: datetime) -> str:
    """``"Jan 16 – Feb 1"``; the year is named only when the two ends differ in year."""
    first, last = f"{_MONTHS[start.month]} {start.day}", f"{_MONTHS[end.month]} {end.day}"
    if start.year != end.year:
        return f"{first}, {start.year} – {last}, {end.year}"
    return f"{first} – {last}"


def describe_day(day: datetime) -> str:
    """``"Jan 16, 2027"``."""
    return f"{_MONTHS[day.month]} {day.day}, {day.year}"


def change_line(label: str, old_amount: int, new_amount: int, period: Period, at: datetime) -> Line:
    """The single net proration line of a seat-count or same-interval price change.

    ``label`` names the change, e.g. ``"Seats 3 → 8"``; the description adds the span.
    """
    amount = prorate(new_amount - old_amount, period, at)
    start = max(at, period.start)
    return Line("proration", f"{label}, {describe_span(start, period.end)}", 1, amount, amount)


@dataclass(frozen=True, slots=True)
class IntervalSwitch:
    """An interval change at ``at``: a credit for the old period, a whole new period charged."""

    credit: Line
    charges: tuple[Line, ...]
    period: Period

    @property
    def total(self) -> int:
        return self.credit.amount + sum(line.amount for line in self.charges)


def interval_switch(
    old_amount: int, old_period: Period, new_price: SeatPrice, seats: int, at: datetime
) -> IntervalSwitch:
    """End the old period at ``at`` (credit its unused time) and start a full new one there."""
    if new_price.interval is None:
        raise ValueError("a subscription cannot switch to a one-time price")
    start = min(max(at, old_period.start), old_period.end)
    credit = -prorate(old_amount, old_period, start)
    return IntervalSwitch(
        credit=Line(
            "credit", f"Unused time, {describe_span(start, old_period.end)}", 1, credit, credit
        ),
        charges=new_price.lines(seats),
        period=Period(start, add_intervals(start, new_price.interval, 1)),
    )
