"""The change planner, the renewal plan and the dunning schedule, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from seatledger.domain.billing import ChangeRequest, Standing, Terms, plan_change
from seatledger.domain.errors import Conflict, ValidationFailed
from seatledger.domain.invoice import InvoiceLine, apply_balance
from seatledger.domain.purchase import PendingChange
from seatledger.domain.renewal import (
    MAX_ATTEMPTS,
    grace_expired,
    next_attempt,
    next_period,
    plan_renewal,
)
from seatledger.pricing import Period, SeatPrice, SeatsOutOfRange


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def price(amount: int = 1000, **more: Any) -> SeatPrice:
    data: dict[str, Any] = {
        "currency": "usd",
        "interval": "month",
        "tiers": [{"up_to": None, "unit_amount": amount}],
    }
    data.update(more)
    return SeatPrice.from_mapping(data)


VOLUME = price(
    tiers=[
        {"up_to": 5, "unit_amount": 1000},
        {"up_to": 10, "unit_amount": 800},
        {"up_to": None, "unit_amount": 500},
    ]
)


def terms(seat_price: SeatPrice, price_id: str = "price_a", **more: Any) -> Terms:
    values: dict[str, Any] = {
        "price_id": price_id,
        "product_id": "prod_a",
        "price": seat_price,
        "proration_increase": "invoice",
        "proration_decrease": "prorate",
    }
    values.update(more)
    return Terms(**values)


JANUARY = Period(utc(2027, 1, 1), utc(2027, 2, 1))


def standing(**more: Any) -> Standing:
    values: dict[str, Any] = {
        "status": "active",
        "cancel_at_period_end": False,
        "has_company": True,
        "seats": 3,
        "assigned": 0,
        "terms": terms(price()),
        "period": JANUARY,
        "pending_change": None,
        "waiting": (),
        "balance": 0,
    }
    values.update(more)
    return Standing(**values)


MID_JANUARY = utc(2027, 1, 16, 12)


# -- defaults -------------------------------------------------------------------------------------


def test_an_increase_takes_the_products_increase_default() -> None:
    plan = plan_change(standing(), ChangeRequest(seats=8), MID_JANUARY)
    assert (plan.behavior, plan.invoice_now, plan.total) == ("invoice", True, 2500)
    assert (plan.applies_now, plan.seats) == (True, 8)


def test_a_decrease_takes_the_products_decrease_default() -> None:
    plan = plan_change(standing(seats=8), ChangeRequest(seats=3), MID_JANUARY)
    assert (plan.behavior, plan.invoice_now, plan.subtotal, plan.total) == (
        "prorate",
        False,
        -2500,
        0,
    )


def test_increase_or_decrease_follows_the_amount_not_the_seat_delta() -> None:
    # Volume tiers: 10 seats cost 8000 and 11 seats 5500, so one more seat is a credit.
    plan = plan_change(
        standing(seats=10, terms=terms(VOLUME)), ChangeRequest(seats=11), MID_JANUARY
    )
    assert plan.behavior == "prorate"
    assert [line.amount for line in plan.lines] == [-1250]
    # …and fewer seats can cost more: the increase default applies.
    plan = plan_change(
        standing(seats=11, terms=terms(VOLUME)), ChangeRequest(seats=10), MID_JANUARY
    )
    assert (plan.behavior, plan.total) == ("invoice", 1250)


def test_members_mode_increases_default_to_prorate() -> None:
    members = terms(price(seat_sync="members"))
    plan = plan_change(standing(terms=members), ChangeRequest(seats=4), MID_JANUARY)
    assert (plan.behavior, plan.invoice_now) == ("prorate", False)
    assert [line.amount for line in plan.lines] == [500]


def test_a_move_to_a_shorter_interval_defaults_to_next_period() -> None:
    annual = terms(price(10000, interval="year"), "price_year")
    monthly = terms(price(1000), "price_month")
    year = Period(utc(2027, 1, 1), utc(2028, 1, 1))
    plan = plan_change(
        standing(terms=annual, period=year), ChangeRequest(terms=monthly), utc(2027, 6, 1)
    )
    assert plan.behavior == "next_period"
    assert plan.pending_change == PendingChange(3, "price_month", utc(2028, 1, 1))
    assert (plan.seats, plan.terms, plan.lines) == (3, annual, ())


def test_for_an_interval_switch_prorate_acts_as_invoice() -> None:
    annual = terms(price(10000, interval="year"), "price_year")
    plan = plan_change(
        standing(seats=5, period=Period(utc(2027, 4, 1), utc(2027, 5, 1))),
        ChangeRequest(terms=annual, behavior="prorate"),
        utc(2027, 4, 16),
    )
    assert (plan.behavior, plan.invoice_now, plan.anchor_moved) == ("invoice", True, True)
    assert [(x.kind, x.amount) for x in plan.lines] == [("credit", -2500), ("seats", 50000)]
    assert plan.period == Period(utc(2027, 4, 16), utc(2028, 4, 16))


def test_an_interval_switch_bills_the_waiting_lines_too() -> None:
    waiting = InvoiceLine("proration", "Seats 5 → 6", 1, 300, 300, None, None)
    annual = terms(price(10000, interval="year"), "price_year")
    plan = plan_change(
        standing(seats=5, waiting=(waiting,), period=Period(utc(2027, 4, 1), utc(2027, 5, 1))),
        ChangeRequest(terms=annual),
        utc(2027, 4, 16),
    )
    assert plan.sweeps_waiting
    assert [x.amount for x in plan.lines] == [-2500, 50000, 300]
    assert plan.total == 47800


# -- next_period ----------------------------------------------------------------------------------


def test_next_period_schedules_a_later_change_replaces_and_the_current_value_cancels() -> None:
    plan = plan_change(standing(), ChangeRequest(seats=8, behavior="next_period"), MID_JANUARY)
    assert (plan.changed, plan.applies_now) == (True, False)
    assert plan.pending_change == PendingChange(8, "price_a", JANUARY.end)
    assert plan.effective_at == JANUARY.end

    scheduled = standing(pending_change=plan.pending_change)
    again = plan_change(scheduled, ChangeRequest(seats=8, behavior="next_period"), MID_JANUARY)
    assert not again.changed  # the same schedule twice changes nothing

    later = plan_change(scheduled, ChangeRequest(seats=6, behavior="next_period"), MID_JANUARY)
    assert later.pending_change == PendingChange(6, "price_a", JANUARY.end)

    cancel = plan_change(scheduled, ChangeRequest(seats=3), MID_JANUARY)
    assert (cancel.changed, cancel.pending_change, cancel.lines) == (True, None, ())

    now = plan_change(scheduled, ChangeRequest(seats=5, behavior="prorate"), MID_JANUARY)
    assert (now.applies_now, now.pending_change) == (True, None)


def test_a_no_op_changes_nothing() -> None:
    plan = plan_change(standing(), ChangeRequest(seats=3, behavior="invoice"), MID_JANUARY)
    assert (plan.changed, plan.behavior, plan.lines, plan.total) == (False, None, (), 0)
    assert not plan.applies_now


# -- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ({"status": "canceled"}, "subscription_not_active"),
        ({"cancel_at_period_end": True}, "subscription_not_active"),
        ({"has_company": False}, "company_required"),
        ({"assigned": 6}, "seats_below_assigned"),
    ],
)
def test_conflicts(state: dict[str, Any], code: str) -> None:
    with pytest.raises(Conflict) as caught:
        plan_change(
            standing(seats=8, **state), ChangeRequest(seats=5, behavior="next_period"), MID_JANUARY
        )
    assert caught.value.code == code


def test_members_changes_still_run_while_cancelling_at_period_end() -> None:
    members = terms(price(seat_sync="members"))
    plan = plan_change(
        standing(terms=members, cancel_at_period_end=True),
        ChangeRequest(seats=4, members_sync=True),
        MID_JANUARY,
    )
    assert plan.applies_now


def test_price_switch_refusals() -> None:
    with pytest.raises(ValidationFailed) as caught:
        plan_change(standing(), ChangeRequest(terms=terms(price(currency="eur"), "p")), MID_JANUARY)
    assert caught.value.errors[0][0] == "price_id"
    with pytest.raises(ValidationFailed):
        plan_change(standing(), ChangeRequest(terms=terms(price(interval=None), "p")), MID_JANUARY)
    with pytest.raises(Conflict) as conflict:
        plan_change(
            standing(), ChangeRequest(terms=terms(price(), "p", archived=True)), MID_JANUARY
        )
    assert conflict.value.code == "price_archived"


def test_seat_bounds_are_the_target_prices() -> None:
    capped = terms(price(minimum_seats=2, maximum_seats=5), "p")
    for seats in (1, 6, 10**30, "3", True):
        with pytest.raises(SeatsOutOfRange) as caught:
            plan_change(standing(), ChangeRequest(seats=seats, terms=capped), MID_JANUARY)
        assert caught.value.errors[0][0] == "seats"
    with pytest.raises(SeatsOutOfRange):  # 3 seats are fine today, not on a 4-seat minimum
        plan_change(
            standing(), ChangeRequest(terms=terms(price(minimum_seats=4), "p")), MID_JANUARY
        )


def test_credit_balance_pays_an_invoice_made_now() -> None:
    plan = plan_change(standing(balance=1000), ChangeRequest(seats=8), MID_JANUARY)
    assert (plan.subtotal, plan.credit_applied, plan.total) == (2500, 1000, 1500)
    plan = plan_change(standing(balance=9000), ChangeRequest(seats=8), MID_JANUARY)
    assert (plan.credit_applied, plan.total) == (2500, 0)


# -- renewals -------------------------------------------------------------------------------------


def renew(**more: Any) -> Any:
    values: dict[str, Any] = {
        "seats": 3,
        "assigned": 0,
        "price_id": "price_a",
        "price": price(),
        "anchor": utc(2027, 1, 31),
        "period": Period(utc(2027, 1, 31), utc(2027, 2, 28)),
        "pending": None,
        "pending_price": None,
        "waiting": (),
        "balance": 0,
    }
    values.update(more)
    return plan_renewal(**values)


def test_a_renewal_bills_the_next_period_from_the_anchor() -> None:
    plan = renew()
    assert plan.period == Period(utc(2027, 2, 28), utc(2027, 3, 31))  # the anchor day returns
    assert (plan.anchor, plan.seats, plan.subtotal, plan.total) == (utc(2027, 1, 31), 3, 3000, 3000)


def test_a_pending_change_applies_with_at_least_the_assigned_seats() -> None:
    pending = PendingChange(2, "price_b", utc(2027, 2, 28))
    plan = renew(assigned=4, seats=6, pending=pending, pending_price=price(2000))
    assert (plan.seats, plan.price_id, plan.total) == (4, "price_b", 8000)


def test_a_pending_change_to_another_interval_anchors_at_the_renewal() -> None:
    pending = PendingChange(3, "price_y", utc(2027, 2, 28))
    plan = renew(pending=pending, pending_price=price(9000, interval="year"))
    assert plan.anchor == utc(2027, 2, 28)
    assert plan.period == Period(utc(2027, 2, 28), utc(2028, 2, 28))


def test_members_mode_recounts_the_pool() -> None:
    members = price(seat_sync="members", minimum_seats=2)
    assert renew(price=members, seats=9, assigned=4).seats == 4
    assert renew(price=members, seats=9, assigned=1).seats == 2


def test_waiting_lines_and_the_credit_balance() -> None:
    credit = InvoiceLine("proration", "Seats 8 → 1", 1, -5000, -5000, None, None)
    plan = renew(waiting=(credit,), balance=700)
    assert (plan.subtotal, plan.credit_applied, plan.total, plan.balance_after) == (
        -2000,
        0,
        0,
        2700,
    )
    plan = renew(balance=700)
    assert (plan.credit_applied, plan.total, plan.balance_after) == (700, 2300, 0)


def test_apply_balance() -> None:
    assert apply_balance(500, 200) == (200, 0)
    assert apply_balance(500, 900) == (500, 400)
    assert apply_balance(-300, 100) == (0, 400)
    with pytest.raises(ValueError, match="never negative"):
        apply_balance(1, -1)


def test_next_period_after_an_off_anchor_period_starts_its_own_anchor() -> None:
    anchor = utc(2027, 1, 15)
    assert next_period(anchor, "month", Period(utc(2027, 1, 15), utc(2027, 2, 15))) == (
        anchor,
        Period(utc(2027, 2, 15), utc(2027, 3, 15)),
    )
    odd = Period(utc(2027, 1, 15), utc(2027, 2, 20))
    assert next_period(anchor, "month", odd) == (
        utc(2027, 2, 20),
        Period(utc(2027, 2, 20), utc(2027, 3, 20)),
    )


def test_dunning_schedule() -> None:
    since = utc(2027, 2, 1)
    assert [next_attempt(since, n) - since for n in (1, 2, 3, 4)] == [
        timedelta(days=1),
        timedelta(days=3),
        timedelta(days=7),
        timedelta(days=14),
    ]
    assert MAX_ATTEMPTS == 4
    assert [grace_expired(n) for n in (0, 3, 4)] == [False, False, True]
    with pytest.raises(ValueError, match="follows a failure"):
        next_attempt(since, 0)


def test_plans_are_values() -> None:
    a = plan_change(standing(), ChangeRequest(seats=8), MID_JANUARY)
    assert a == plan_change(standing(), ChangeRequest(seats=8), MID_JANUARY)
    assert a != plan_change(replace(standing(), balance=1), ChangeRequest(seats=8), MID_JANUARY)
