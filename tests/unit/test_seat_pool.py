"""A pool's and a seat's transitions, as the domain states them (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from seatledger.domain.errors import (
    CompanyRequired,
    InvalidToken,
    NoSeatsAvailable,
    OrderNotPaid,
    SeatLimitReached,
    SeatsBelowAssigned,
    SubscriptionNotActive,
    ValidationFailed,
)
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef, SeatPool
from seatledger.pricing import MAX_SEATS

NOW = datetime(2027, 1, 1, tzinfo=UTC)
LATER = datetime(2027, 1, 2, tzinfo=UTC)


def _pool(**changes: object) -> SeatPool:
    pool = SeatPool(
        id="sub_1",
        kind="subscription",
        company_id="co_1",
        price_id="price_1",
        owner_status="active",
        seats=3,
        assigned_seats=1,
    )
    return replace(pool, **changes)  # type: ignore[arg-type]


def _seat(**changes: object) -> Seat:
    seat = Seat(
        id="seat_1",
        company_id="co_1",
        subscription_id="sub_1",
        order_id=None,
        member_id=None,
        email="ann@acme.test",
        status="pending",
        metadata={},
        created_at=NOW,
        claimed_at=None,
        revoked_at=None,
    )
    return replace(seat, **changes)  # type: ignore[arg-type]


def test_a_request_names_exactly_one_pool() -> None:
    assert PoolRef.of("sub_1", None) == PoolRef("subscription", "sub_1")
    assert PoolRef.of(None, "ord_1") == PoolRef("order", "ord_1")
    assert PoolRef.of(None, "ord_1").field == "order_id"
    for both in (("sub_1", "ord_1"), (None, None)):
        with pytest.raises(ValidationFailed):
            PoolRef.of(*both)


def test_take_counts_one_more_assigned_seat_until_full() -> None:
    pool = _pool().take().take()
    assert (pool.seats, pool.assigned_seats, pool.available_seats) == (3, 3, 0)
    with pytest.raises(NoSeatsAvailable):
        pool.take()


def test_take_needs_a_company() -> None:
    with pytest.raises(CompanyRequired):
        _pool(company_id=None).take()


def test_take_refuses_a_canceled_subscription_but_not_a_past_due_one() -> None:
    with pytest.raises(SubscriptionNotActive):
        _pool(owner_status="canceled").take()
    assert _pool(owner_status="past_due").take().assigned_seats == 2


def test_take_needs_a_paid_order() -> None:
    order = _pool(id="ord_1", kind="order", owner_status="pending")
    with pytest.raises(OrderNotPaid):
        order.take()
    assert replace(order, owner_status="paid").take().assigned_seats == 2


def test_the_reason_that_comes_first_is_named_first() -> None:
    """A full pool of a company-less subscription is refused for the company, not the count."""
    with pytest.raises(CompanyRequired):
        _pool(company_id=None, assigned_seats=3).take()


def test_release_frees_a_seat_and_never_goes_below_zero() -> None:
    assert _pool().release().assigned_seats == 0
    with pytest.raises(ValueError, match="no assigned seat"):
        _pool(assigned_seats=0).release()


def test_grow_up_to_the_maximum() -> None:
    assert _pool().grow(2, maximum=5).seats == 5
    with pytest.raises(SeatLimitReached):
        _pool().grow(3, maximum=5)
    assert _pool().grow(1, maximum=None).seats == 4
    with pytest.raises(SeatLimitReached):
        _pool(seats=MAX_SEATS).grow(1, maximum=None)


def test_an_order_never_grows() -> None:
    with pytest.raises(NoSeatsAvailable):
        _pool(kind="order", owner_status="paid").grow(1, maximum=None)


def test_shrink_stops_at_the_minimum_and_at_the_assigned_seats() -> None:
    assert _pool(seats=5, assigned_seats=1).shrink(1, minimum=1).seats == 4
    assert _pool(seats=5, assigned_seats=1).shrink(3, minimum=3).seats == 3
    assert _pool(seats=5, assigned_seats=4).shrink(3, minimum=1).seats == 4
    assert _pool(seats=1, assigned_seats=0).shrink(1, minimum=1).seats == 1


def test_resize_never_below_the_assigned_seats() -> None:
    assert _pool().resize(1).seats == 1
    with pytest.raises(SeatsBelowAssigned):
        _pool(assigned_seats=2).resize(1)


def test_claim_makes_a_pending_seat_the_members() -> None:
    claimed = _seat().claim("mem_1", LATER)
    assert (claimed.status, claimed.member_id, claimed.claimed_at) == ("claimed", "mem_1", LATER)
    assert claimed.pool_id == "sub_1"


def test_only_a_pending_seat_is_claimed() -> None:
    for status in ("claimed", "revoked"):
        with pytest.raises(InvalidToken):
            _seat(status=status).claim("mem_1", LATER)


def test_revoke_ends_a_live_seat_once() -> None:
    revoked = _seat(status="claimed", member_id="mem_1").revoke(NOW)
    assert (revoked.status, revoked.revoked_at, revoked.live) == ("revoked", NOW, False)
    assert revoked.revoke(LATER) is revoked  # the first revoked_at stays
    assert _seat().revoke(NOW).status == "revoked"


def test_a_seats_pool_is_its_subscription_or_its_order() -> None:
    assert _seat(subscription_id=None, order_id="ord_1").pool_id == "ord_1"
