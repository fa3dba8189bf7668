"""The declarative holders rule (``seatledger.domain.holders``), without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatledger.domain.errors import NoSeatsAvailable, SeatLimitReached, ValidationFailed
from seatledger.domain.holders import (
    MAX_HOLDERS,
    HoldersDiff,
    holders_diff,
    seats_after,
    wanted_holders,
)
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import SeatPool

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _seat(email: str, status: str = "pending") -> Seat:
    return Seat(
        id=f"seat_{email}",
        company_id="co_1",
        subscription_id="sub_1",
        order_id=None,
        member_id=None,
        email=email,
        status=status,  # type: ignore[arg-type]
        metadata={},
        created_at=NOW,
        claimed_at=None,
        revoked_at=None,
    )


def test_addresses_are_normalised_and_duplicates_collapsed_in_order() -> None:
    wanted = wanted_holders(["Ann@Acme.test", "bob@acme.test", "ANN@acme.TEST", "bob@acme.test"])
    assert wanted.emails == ("ann@acme.test", "bob@acme.test")
    assert wanted.duplicates == ("ann@acme.test", "bob@acme.test")


def test_every_bad_address_is_named() -> None:
    with pytest.raises(ValidationFailed) as refused:
        wanted_holders(["ok@acme.test", "nope", 7, "x@y.test", "a@@b"])
    assert [field for field, _ in refused.value.errors] == ["emails[1]", "emails[2]", "emails[4]"]
    with pytest.raises(ValidationFailed):
        wanted_holders("ann@acme.test")
    with pytest.raises(ValidationFailed):
        wanted_holders([f"p{n}@a.test" for n in range(MAX_HOLDERS + 1)])


def test_the_diff_assigns_the_missing_revokes_the_rest_keeps_the_others() -> None:
    live = [_seat("ann@acme.test", "claimed"), _seat("bob@acme.test"), _seat("cy@acme.test")]
    diff = holders_diff(live, wanted_holders(["dee@acme.test", "CY@acme.test", "ann@acme.test"]))
    assert diff.assign == ("dee@acme.test",)
    assert [s.email for s in diff.revoke] == ["bob@acme.test"]
    assert [s.email for s in diff.unchanged] == ["cy@acme.test", "ann@acme.test"]
    assert diff.changed
    same = holders_diff(live, wanted_holders(["bob@acme.test", "ann@acme.test", "cy@acme.test"]))
    assert not same.changed


def test_a_fixed_pool_keeps_its_seats_and_names_how_many_are_missing() -> None:
    diff = holders_diff([_seat("a@x.test")], wanted_holders([f"p{n}@x.test" for n in range(5)]))
    assert len(diff.revoke) == 1
    assert seats_after(5, diff, follows_members=False) == 5
    with pytest.raises(NoSeatsAvailable, match="2 seats missing"):
        seats_after(3, diff, follows_members=False)


def test_a_members_pool_shrinks_per_revocation_and_grows_to_its_holders() -> None:
    live = [_seat(f"p{n}@x.test") for n in range(4)]
    down = holders_diff(live, wanted_holders(["p0@x.test"]))
    assert seats_after(6, down, follows_members=True, minimum=1) == 3  # 6 − 3 revoked
    assert seats_after(4, down, follows_members=True, minimum=2) == 2  # never below minimum
    up = holders_diff(live, wanted_holders([f"p{n}@x.test" for n in range(7)]))
    assert seats_after(5, up, follows_members=True) == 7
    assert seats_after(9, up, follows_members=True) == 9  # free seats are taken first
    with pytest.raises(SeatLimitReached, match="by 1"):
        seats_after(4, up, follows_members=True, maximum=6)


def _one_by_one(pool: SeatPool, diff: HoldersDiff, minimum: int, maximum: int | None) -> int:
    """The single operations in turn: each revocation releases and shrinks, each assignment
    takes a free seat or grows by one (``seatledger.services.seat_sync``)."""
    for _ in diff.revoke:
        pool = pool.release().shrink(1, minimum=minimum)
    for _ in diff.assign:
        if pool.available_seats == 0:
            pool = pool.grow(1, maximum=maximum)
        pool = pool.take()
    return pool.seats


@given(
    held=st.integers(0, 12),
    free=st.integers(0, 5),
    kept=st.integers(0, 12),
    added=st.integers(0, 12),
    minimum=st.integers(1, 8),
    maximum=st.one_of(st.none(), st.integers(8, 30)),
)
def test_the_closed_form_is_the_single_operations_in_turn(
    held: int, free: int, kept: int, added: int, minimum: int, maximum: int | None
) -> None:
    kept = min(kept, held)
    seats = max(held + free, minimum)
    live = [_seat(f"h{n}@x.test") for n in range(held)]
    wanted = [f"h{n}@x.test" for n in range(kept)] + [f"new{n}@x.test" for n in range(added)]
    diff = holders_diff(live, wanted_holders(wanted))
    pool = SeatPool("sub_1", "subscription", "co_1", "price_1", "active", seats, held)
    try:
        expected: int | None = _one_by_one(pool, diff, minimum, maximum)
    except SeatLimitReached:
        expected = None
    try:
        got: int | None = seats_after(
            seats, diff, follows_members=True, minimum=minimum, maximum=maximum
        )
    except SeatLimitReached:
        got = None
    assert got == expected
