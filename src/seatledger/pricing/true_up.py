"""True-up: seats added during a period, billed later for the time they were held.

Under true-up a seat-count rise is not charged when it happens. The period's true-up bills one
line per rise, ``Seats 3 → 5, <from> – <to>``: its quantity is the seats added and its amount
``round_half_even((period_amount(after) − period_amount(before)) × held / period)``, where
``held`` runs in whole seconds from the rise to the end of the period (or to an earlier
``until``: a cancellation that ends the period now). Each line is rounded on its own, once,
like a proration line; to the end of the period its amount is exactly the proration amount
of the same change (``seatledger.pricing.proration.change_line``).

The highest count reached is what is billed: a rise is a step from the peak so far, and a count
at or below the peak adds nothing (``peak_steps``). Seats going 3 → 6 → 4 → 7 bill 3 → 6 from
the first change and 6 → 7 from the last.

An annual period may be trued up quarterly: its quarter boundaries are 3, 6 and 9 calendar
months after its start (``quarter_ends``), and each rise is billed at the first boundary after
it (``billed_at``); the last quarter's rises are billed at the end of the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from seatledger.pricing.money import div_round_half_even
from seatledger.pricing.periods import Period, add_months, require_utc
from seatledger.pricing.price import Line, SeatPrice
from seatledger.pricing.proration import describe_span

_SECOND = timedelta(seconds=1)
QUARTER_MONTHS = 3


@dataclass(frozen=True, slots=True)
class SeatStep:
    """A rise of the seats billed for a period: from ``before`` (the peak so far) to ``after``,
    at ``at``."""

    at: datetime
    before: int
    after: int

    def __post_init__(self) -> None:
        require_utc(self.at, "at")
        if self.after <= self.before:
            raise ValueError(f"a true-up step rises: {self.before} → {self.after}")


def peak_steps(start: int, counts: Iterable[tuple[datetime, int]]) -> list[SeatStep]:
    """The steps a period's seat counts bill, from ``start`` seats: one per count above every
    count before it (the peak), in time order; counts at or below the peak add none."""
    steps: list[SeatStep] = []
    peak = start
    for at, seats in sorted(counts, key=lambda count: count[0]):
        if seats > peak:
            steps.append(SeatStep(at.replace(microsecond=0), peak, seats))
            peak = seats
    return steps


def _held(period: Period, at: datetime, until: datetime) -> tuple[int, int]:
    """(seconds held from ``at`` to ``until``, period seconds), both clamped into the period."""
    start = min(max(at.replace(microsecond=0), period.start), period.end)
    end = min(max(until.replace(microsecond=0), start), period.end)
    return (end - start) // _SECOND, (period.end - period.start) // _SECOND


def exact_amount(
    price: SeatPrice, period: Period, step: SeatStep, until: datetime | None = None
) -> Fraction:
    """The step's worth before rounding: the period price's difference × the share held."""
    held, total = _held(period, step.at, period.end if until is None else until)
    difference = price.period_amount(step.after) - price.period_amount(step.before)
    return Fraction(difference * held, total)


def true_up_line(
    price: SeatPrice, period: Period, step: SeatStep, until: datetime | None = None
) -> Line:
    """The step's one line, rounded half to even once. ``unit_amount`` is the amount per added
    seat, rounded, for reading; ``amount`` is what is billed."""
    end = period.end if until is None else min(max(until, period.start), period.end)
    held, total = _held(period, step.at, end)
    difference = price.period_amount(step.after) - price.period_amount(step.before)
    amount = div_round_half_even(difference * held, total)
    added = step.after - step.before
    start = min(max(step.at, period.start), period.end)
    return Line(
        "proration",
        f"Seats {step.before} → {step.after}, {describe_span(start, end.replace(microsecond=0))}",
        added,
        div_round_half_even(amount, added),
        amount,
    )


def true_up_lines(
    price: SeatPrice, period: Period, steps: Sequence[SeatStep], until: datetime | None = None
) -> tuple[Line, ...]:
    """One line per step, in time order."""
    ordered = sorted(steps, key=lambda step: step.at)
    return tuple(true_up_line(price, period, step, until) for step in ordered)


def quarter_ends(period: Period) -> tuple[datetime, ...]:
    """The quarter boundaries inside an annual period (3, 6 and 9 months after its start), then
    its end."""
    inner = tuple(add_months(period.start, QUARTER_MONTHS * k) for k in (1, 2, 3))
    return (*(moment for moment in inner if moment < period.end), period.end)


def billed_at(period: Period, at: datetime) -> datetime:
    """When a rise at ``at`` is billed under quarterly true-up: the first quarter boundary
    after it (the end of the period for the last quarter)."""
    for boundary in quarter_ends(period):
        if at < boundary:
            return boundary
    return period.end


__all__ = [
    "QUARTER_MONTHS",
    "SeatStep",
    "billed_at",
    "exact_amount",
    "peak_steps",
    "quarter_ends",
    "true_up_line",
    "true_up_lines",
]
