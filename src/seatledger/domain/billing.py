"""Subscription changes, planned without I/O (SPEC §2 proration, §3).

``plan_change`` takes where a subscription stands (``Standing``), what is asked
(``ChangeRequest``) and the time, and answers everything the change does (``ChangePlan``): the
behavior it resolves to, the lines it bills, whether they are invoiced now or wait for the
renewal, the seats, price and period after it, the pending change, and the credit balance it
uses. The change itself, its preview and the ``members`` mode all run this one function, so a
preview is what the change then bills.

Behaviors (``proration_behavior``):

* ``invoice``: the change applies now and its lines are invoiced now (a charge is collected
  first: if it fails, nothing is applied);
* ``prorate``: the change applies now and its proration line waits for the next renewal;
* ``next_period``: nothing changes now; ``pending_change`` holds the target until the period
  ends. A later change replaces it; asking for the current seats and price cancels it;
* ``true_up``: a seat-count rise applies now and nothing is billed now: the rise is recorded
  (``ChangePlan.true_up``) and billed later for the time it is held, on the renewal invoice or,
  quarterly, at the end of its quarter (``seatledger.pricing.true_up``). Since decreases wait
  for the renewal, the seats held are the period's peak, and a rise bills from them. A change
  that is not a rise (its amount is 0 or a credit) acts as ``next_period``; a price change
  cannot be trued up (``ValidationFailed("proration_behavior")``).

Defaults, in order: a move to a shorter interval (annual → monthly) is ``next_period``; an
increase — a positive proration amount, whatever the seat delta — is ``prorate`` when the new
price follows members (``true_up`` when its product trues up) and the product's
``proration_increase`` otherwise, except that a price change takes ``prorate`` where that is
``true_up``; anything else (a credit or nothing) is the product's ``proration_decrease``. For
an interval switch ``prorate`` acts as ``invoice``: the old period ends now, so its credit and
the new period are billed now.

Lines:

* a seat-count or same-interval price change: one ``proration`` line,
  ``round_half_even((new amount − old amount) × f)``, none when it is 0;
* an interval switch: a ``credit`` line for the unused time of the old period, the new price's
  lines for a whole new period starting now (the anchor moves to now), and the proration lines
  still waiting, since the period they belong to has just ended.

During a free trial (``trialing``) nothing is prorated: an ``invoice`` or ``prorate`` change
applies now with no line, and the trial's end bills the seats and price held then. The trial
period stays as it is, an interval switch included (the first charged period takes the new
interval); ``next_period`` still waits for the trial's end.

A change counts from its whole second (``at`` is truncated), like proration does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.domain.catalog import ProrationBehavior, TrueUpInterval
from seatledger.domain.errors import (
    CompanyRequired,
    PriceArchived,
    SeatsBelowAssigned,
    SubscriptionNotActive,
    ValidationFailed,
)
from seatledger.domain.invoice import InvoiceLine, apply_balance, invoice_lines
from seatledger.domain.purchase import PendingChange, SubscriptionStatus
from seatledger.pricing import (
    Interval,
    Period,
    SeatPrice,
    SeatStep,
    change_line,
    interval_switch,
    true_up_line,
)

_MONTHS: dict[Interval, int] = {"month": 1, "year": 12}


@dataclass(frozen=True, slots=True)
class Terms:
    """A price as a subscription change sees it: its rules and its product's defaults."""

    price_id: str
    product_id: str
    price: SeatPrice
    proration_increase: ProrationBehavior
    proration_decrease: ProrationBehavior
    archived: bool = False
    true_up_interval: TrueUpInterval | None = None

    @property
    def interval(self) -> Interval:
        if self.price.interval is None:
            raise ValueError("a subscription's price is recurring")
        return self.price.interval


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a subscription stands when a change is asked for."""

    status: SubscriptionStatus
    cancel_at_period_end: bool
    has_company: bool
    seats: int
    assigned: int  # pending + claimed seats
    terms: Terms
    period: Period
    pending_change: PendingChange | None
    waiting: tuple[InvoiceLine, ...]  # proration lines waiting for the next renewal
    balance: int  # the company's credit balance in the price's currency


@dataclass(frozen=True, slots=True)
class ChangeRequest:
    """What is asked: None keeps the current value. ``members_sync`` marks the changes the
    ``members`` mode makes itself when people come and go; those also run on a subscription
    that cancels at period end (its seats stay assignable until the end)."""

    seats: object = None
    terms: Terms | None = None
    behavior: ProrationBehavior | None = None
    members_sync: bool = False


@dataclass(frozen=True, slots=True)
class ChangePlan:
    behavior: ProrationBehavior | None  # None: nothing changes
    seats: int  # after the change (unchanged when it is scheduled)
    terms: Terms
    period: Period
    anchor_moved: bool  # an interval switch: the billing anchor is the new period's start
    pending_change: PendingChange | None  # what stays scheduled after the change
    lines: tuple[InvoiceLine, ...]  # billed now when ``invoice_now``, else waiting for renewal
    invoice_now: bool
    sweeps_waiting: bool  # the waiting lines are on this invoice too (interval switch)
    credit_applied: int
    effective_at: datetime
    changed: bool  # False: a no-op, which bills nothing and emits nothing
    true_up: SeatStep | None = None  # ``true_up``: the rise to record, billed later

    @property
    def applies_now(self) -> bool:
        return self.changed and self.behavior in ("invoice", "prorate", "true_up")

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def total(self) -> int:
        """What the invoice made now totals (0 when nothing is invoiced now)."""
        return max(0, self.subtotal - self.credit_applied) if self.invoice_now else 0


def is_shorter(old: Interval, new: Interval) -> bool:
    return _MONTHS[new] < _MONTHS[old]


def default_behavior(
    current: Terms, target: Terms, amount: int, *, interval_switch: bool
) -> ProrationBehavior:
    """The behavior a change takes when none is asked for (rules in the module docstring)."""
    if interval_switch and is_shorter(current.interval, target.interval):
        return "next_period"
    if amount > 0:
        trues_up = target.proration_increase == "true_up"
        if target.price_id != current.price_id:
            return "prorate" if trues_up else target.proration_increase
        if target.price.seat_sync == "members":
            return "true_up" if trues_up else "prorate"
        return target.proration_increase
    return target.proration_decrease


def check_switch(current: Terms, target: Terms) -> None:
    """A subscription may move to any recurring, unarchived price in its own currency."""
    if target.price.interval is None:
        raise ValidationFailed.field("price_id", "must be a recurring price")
    if target.price.currency != current.price.currency:
        raise ValidationFailed.field(
            "price_id",
            f"must be in the subscription's currency ({current.price.currency}); "
            "a change of currency is a new subscription",
        )
    if target.archived:
        raise PriceArchived()


def _label(old_seats: int, new_seats: int, price_changed: bool) -> str:
    if not price_changed:
        return f"Seats {old_seats} → {new_seats}"
    if old_seats == new_seats:
        return f"Price change ({new_seats} seat{'' if new_seats == 1 else 's'})"
    return f"Price change, seats {old_seats} → {new_seats}"


def _unchanged(standing: Standing, at: datetime, *, pending: PendingChange | None) -> ChangePlan:
    """No seat or price change now; ``pending`` is what stays scheduled."""
    changed = pending != standing.pending_change
    return ChangePlan(
        behavior="next_period" if changed else None,
        seats=standing.seats,
        terms=standing.terms,
        period=standing.period,
        anchor_moved=False,
        pending_change=pending,
        lines=(),
        invoice_now=False,
        sweeps_waiting=False,
        credit_applied=0,
        effective_at=standing.period.end if pending is not None else at,
        changed=changed,
    )


def _during_trial(
    standing: Standing,
    request: ChangeRequest,
    behavior: ProrationBehavior,
    seats: int,
    target: Terms,
    at: datetime,
) -> ChangePlan:
    """A change during a free trial: applied now, nothing billed (module docstring)."""
    return ChangePlan(
        behavior=behavior,
        seats=seats,
        terms=target,
        period=standing.period,
        anchor_moved=False,
        pending_change=standing.pending_change if request.members_sync else None,
        lines=(),
        invoice_now=False,
        sweeps_waiting=False,
        credit_applied=0,
        effective_at=at,
        changed=True,
    )


def plan_change(standing: Standing, request: ChangeRequest, at: datetime) -> ChangePlan:
    """Everything a change does, or the error that refuses it (nothing is written here).

    Errors: ``subscription_not_active`` (canceled, or cancelling at period end),
    ``company_required`` (owner-scoped: its credit would have no balance to go to),
    ``ValidationFailed("price_id")`` (one-time price, other currency), ``price_archived``,
    ``SeatsOutOfRange("seats")`` (the target price's bounds), ``seats_below_assigned``.
    """
    at = at.replace(microsecond=0)
    if standing.status == "canceled" or (
        standing.cancel_at_period_end and not request.members_sync
    ):
        raise SubscriptionNotActive(
            "This subscription is canceled or cancels at the end of its period.",
        )
    if not standing.has_company:
        raise CompanyRequired()
    current = standing.terms
    target = request.terms or current
    price_changed = target.price_id != current.price_id
    if price_changed:
        check_switch(current, target)
    seats = target.price.check_seats(
        standing.seats if request.seats is None else request.seats, field="seats"
    )
    if seats < standing.assigned:
        raise SeatsBelowAssigned(
            f"{standing.assigned} seats are assigned: revoke seats first.",
        )

    if seats == standing.seats and not price_changed:
        return _unchanged(standing, at, pending=None)

    switching = target.interval != current.interval
    old_amount = current.price.period_amount(standing.seats)
    if switching:
        switch = interval_switch(old_amount, standing.period, target.price, seats, at)
        amount = switch.total
    else:
        line = change_line(
            _label(standing.seats, seats, price_changed),
            old_amount,
            target.price.period_amount(seats),
            standing.period,
            at,
        )
        amount = line.amount

    behavior = request.behavior or default_behavior(
        current, target, amount, interval_switch=switching
    )
    if behavior == "true_up":
        if price_changed:
            raise ValidationFailed.field(
                "proration_behavior",
                "true_up bills seat-count changes; a price change takes invoice, prorate or "
                "next_period",
            )
        if amount <= 0 or seats < standing.seats:
            behavior = "next_period"  # not a rise: it waits for the renewal, with no credit
    if request.members_sync and behavior == "next_period" and seats > standing.seats:
        behavior = "prorate"  # the person is invited now: the seat must exist now
    if switching and behavior == "prorate":
        behavior = "invoice"

    if standing.status == "trialing" and behavior != "next_period":
        return _during_trial(standing, request, behavior, seats, target, at)

    if behavior == "next_period":
        if request.members_sync:
            # The renewal recounts a members pool from its people: nothing to schedule.
            return _unchanged(standing, at, pending=standing.pending_change)
        pending = PendingChange(
            seats=seats, price_id=target.price_id, effective_at=standing.period.end
        )
        return _unchanged(standing, at, pending=pending)

    if behavior == "true_up":
        return _true_up(standing, seats, request, at)
    if switching:
        start = switch.period.start
        lines = (
            *invoice_lines([switch.credit], period_start=start, period_end=standing.period.end),
            *invoice_lines(
                switch.charges, period_start=switch.period.start, period_end=switch.period.end
            ),
            *standing.waiting,
        )
        period, invoice_now = switch.period, True
    else:
        start = max(at, standing.period.start)
        lines = (
            invoice_lines([line], period_start=start, period_end=standing.period.end)
            if line.amount
            else ()
        )
        period, invoice_now = standing.period, behavior == "invoice"

    credit_applied = 0
    if invoice_now:
        credit_applied, _ = apply_balance(sum(x.amount for x in lines), standing.balance)
    return ChangePlan(
        behavior=behavior,
        seats=seats,
        terms=target,
        period=period,
        anchor_moved=switching,
        # A change made now replaces any scheduled one; members mode's own growth and shrinking
        # leave a scheduled price change in place.
        pending_change=standing.pending_change if request.members_sync else None,
        lines=lines,
        invoice_now=invoice_now,
        sweeps_waiting=switching,
        credit_applied=credit_applied,
        effective_at=at,
        changed=True,
    )


def _true_up(standing: Standing, seats: int, request: ChangeRequest, at: datetime) -> ChangePlan:
    """A rise under ``true_up``: applied now, recorded, billed later; its line is what the
    true-up will bill when the rise is held to the period's end."""
    step = SeatStep(max(at, standing.period.start), standing.seats, seats)
    line = true_up_line(standing.terms.price, standing.period, step)
    return ChangePlan(
        behavior="true_up",
        seats=seats,
        terms=standing.terms,
        period=standing.period,
        anchor_moved=False,
        pending_change=standing.pending_change if request.members_sync else None,
        lines=invoice_lines([line], period_start=step.at, period_end=standing.period.end),
        invoice_now=False,
        sweeps_waiting=False,
        credit_applied=0,
        effective_at=at,
        changed=True,
        true_up=step,
    )
