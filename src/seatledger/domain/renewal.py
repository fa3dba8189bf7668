"""Renewals and dunning, planned without I/O (SPEC §3).

At the end of a period a subscription renews, exactly once per period:

1. the pending change applies, with no proration: its price, and ``max(target, assigned)``
   seats (seats are never revoked implicitly);
2. in ``members`` mode the count is recomputed: ``max(assigned, minimum_seats)``;
3. the new period follows the old one (a new interval starts its own anchor there);
4. the invoice bills the new period's lines plus the proration lines still waiting, minus the
   company's credit balance; its total is never negative, and what a net credit leaves over
   stays on the balance.

A renewal that cannot be paid still advances the period; the invoice stays ``open`` and the
subscription is ``past_due``. Payment is retried 1, 3 and 7 days after the first failure; 14
days after it the subscription is canceled (every seat revoked with its benefits) and the
unpaid invoice is voided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from seatledger.domain.invoice import InvoiceLine, apply_balance, invoice_lines
from seatledger.domain.purchase import PendingChange, SubscriptionStatus
from seatledger.pricing import Interval, Period, SeatPrice, add_intervals, period_containing

# Dunning: retries after the first failed attempt, then the end of the grace period.
RETRY_DELAYS = (timedelta(days=1), timedelta(days=3), timedelta(days=7))
GRACE_PERIOD = timedelta(days=14)
MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)  # the renewal's own attempt and three retries


@dataclass(frozen=True, slots=True)
class Renewal:
    seats: int
    price_id: str
    anchor: datetime
    period: Period
    lines: tuple[InvoiceLine, ...]
    subtotal: int
    credit_applied: int
    total: int
    balance_after: int


def next_period(anchor: datetime, interval: Interval, ended: Period) -> tuple[datetime, Period]:
    """``(anchor, period)`` of the period after ``ended``; a new interval anchors at its start."""
    start = ended.end
    if start > anchor:
        _, period = period_containing(anchor, interval, start)
        if period.start == start:
            return anchor, period
    return start, Period(start, add_intervals(start, interval, 1))


def plan_renewal(
    *,
    seats: int,
    assigned: int,
    price_id: str,
    price: SeatPrice,
    anchor: datetime,
    period: Period,
    pending: PendingChange | None,
    pending_price: SeatPrice | None,
    waiting: Sequence[InvoiceLine],
    balance: int,
) -> Renewal:
    """The renewal at the end of ``period`` (rules in the module docstring)."""
    interval = price.interval
    if pending is not None:
        if pending_price is None:
            raise ValueError("a pending change names its price")
        price_id, price = pending.price_id, pending_price
        seats = max(pending.seats, assigned)
    if price.seat_sync == "members":
        seats = max(assigned, price.minimum_seats, 1)
    if price.interval is None:
        raise ValueError("a subscription's price is recurring")
    if price.interval != interval:
        new_anchor, new_period = (
            period.end,
            Period(period.end, add_intervals(period.end, price.interval, 1)),
        )
    else:
        new_anchor, new_period = next_period(anchor, price.interval, period)
    lines = (
        *invoice_lines(
            price.lines(seats), period_start=new_period.start, period_end=new_period.end
        ),
        *waiting,
    )
    subtotal = sum(line.amount for line in lines)
    credit_applied, balance_after = apply_balance(subtotal, balance)
    return Renewal(
        seats=seats,
        price_id=price_id,
        anchor=new_anchor,
        period=new_period,
        lines=lines,
        subtotal=subtotal,
        credit_applied=credit_applied,
        total=max(0, subtotal - credit_applied),
        balance_after=balance_after,
    )


def next_attempt(past_due_since: datetime, failures: int) -> datetime:
    """When to try again after ``failures`` failed attempts (≥ 1); after the last retry, the
    end of the grace period, when the subscription is canceled."""
    if failures < 1:
        raise ValueError("a retry follows a failure")
    if failures <= len(RETRY_DELAYS):
        return past_due_since + RETRY_DELAYS[failures - 1]
    return past_due_since + GRACE_PERIOD


def grace_expired(failures: int) -> bool:
    """True when every attempt failed: the next due time is the cancellation."""
    return failures >= MAX_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Dunning:
    """A subscription's status and dunning columns after a run's payment attempts."""

    subscription_id: str
    status: SubscriptionStatus
    payment_attempts: int
    past_due_since: datetime | None
    next_payment_attempt_at: datetime | None
