"""Free trials: a recurring price's first period, free (``SeatPrice.trial_days``).

A trial lasts ``trial_days`` whole days from the purchase (``trial_end``); it is the
subscription's first period, invoiced at 0 with one line naming its end (``trial_line``), so
that every period of a subscription has its invoice. The first charged period starts when the
trial ends, and the billing anchor is that instant.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from seatledger.pricing.price import Line
from seatledger.pricing.proration import describe_day


def trial_end(start: datetime, days: int) -> datetime:
    """When a trial of ``days`` days that starts at ``start`` ends (whole seconds)."""
    return start.replace(microsecond=0) + timedelta(days=days)


def trial_line(seats: int, end: datetime) -> Line:
    """The trial's invoice line: the seats held, at no charge, until ``end``."""
    return Line("seats", f"Trial until {describe_day(end)}", seats, 0, 0)


__all__ = ["trial_end", "trial_line"]
