"""SPEC §5: assigning, claiming, resending and revoking seats, on both databases."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import columns_of
from seatledger.adapters.db.seats import Seats
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict, InvalidToken, NotFound, ValidationFailed
from seatledger.services import customer_sessions, seats
from seatledger.services.runtime import Runtime
from tests.integration import pools


async def _rows(engine: AsyncEngine, table: Any, *where: Any) -> list[Any]:
    async with engine.connect() as c:
        return list((await c.execute(select(*columns_of(table)).where(*where))).all())


async def _events(engine: AsyncEngine, kind: str) -> list[dict[str, Any]]:
    return [row.payload for row in await _rows(engine, t.outbox, t.outbox.c.type == kind)]


async def _count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as c:
        return int((await c.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.fixture
async def pool(runtime: Runtime) -> dict[str, str]:
    price_id = await pools.product(runtime.engine)
    company_id, manager_id = await pools.company(runtime.engine)
    subscription_id = await pools.subscription(runtime.engine, price_id, company_id, seats=3)
    return {
        "price_id": price_id,
        "company_id": company_id,
        "manager_id": manager_id,
        "subscription_id": subscription_id,
    }


async def test_assign_to_an_email_answers_an_invitation_once(
    runtime: Runtime, pool: dict[str, str], clock: FixedClock
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="Ann@Acme.Test"
    )
    assert (seat.status, seat.email, seat.member_id) == ("pending", "ann@acme.test", None)
    assert seat.invitation is not None
    assert len(seat.invitation.token) >= 22  # ≥ 128 bits, URL-safe base64
    assert seat.invitation.token in seat.invitation.url
    assert seat.invitation.expires_at == clock.now() + timedelta(days=7)
    [row] = await _rows(runtime.engine, t.seats)
    assert row.token_hash == hashlib.sha256(seat.invitation.token.encode()).hexdigest()
    assert seat.invitation.token not in str(row._mapping)
    again = await seats.get_seat(runtime, seat.id)
    assert again.invitation is None
    [subscription] = await _rows(runtime.engine, t.subscriptions)
    assert subscription.assigned_seats == 1
    assert [e["id"] for e in await _events(runtime.engine, "seat.assigned")] == [seat.id]
    [mail] = await _events(runtime.engine, "invitation.email")
    assert (mail["to"], mail["url"]) == ("ann@acme.test", seat.invitation.url)


async def test_no_email_when_asked_not_to(runtime: Runtime, pool: dict[str, str]) -> None:
    await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@acme.test", send_email=False
    )
    assert await _events(runtime.engine, "invitation.email") == []


async def test_assign_to_a_member_uses_their_email(runtime: Runtime, pool: dict[str, str]) -> None:
    member_id = await pools.member(runtime.engine, pool["company_id"], "bob@acme.test")
    seat = await seats.assign_seat(
        runtime,
        subscription_id=pool["subscription_id"],
        member_id=member_id,
        metadata={"team": "red"},
    )
    assert (seat.member_id, seat.email, seat.metadata) == (
        member_id,
        "bob@acme.test",
        {"team": "red"},
    )


async def test_an_email_of_a_known_member_links_the_member(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    member_id = await pools.member(runtime.engine, pool["company_id"], "bob@acme.test")
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="BOB@acme.test"
    )
    assert seat.member_id == member_id


async def test_a_full_pool_refuses_and_changes_nothing(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    for name in ("a", "b", "c"):
        await seats.assign_seat(
            runtime, subscription_id=pool["subscription_id"], email=f"{name}@acme.test"
        )
    with pytest.raises(Conflict) as error:
        await seats.assign_seat(
            runtime, subscription_id=pool["subscription_id"], email="d@acme.test"
        )
    assert error.value.code == "no_seats_available"
    assert await _count(runtime.engine, t.seats) == 3
    [subscription] = await _rows(runtime.engine, t.subscriptions)
    assert subscription.assigned_seats == 3


async def test_one_live_seat_per_person_in_a_pool(runtime: Runtime, pool: dict[str, str]) -> None:
    member_id = await pools.member(runtime.engine, pool["company_id"], "bob@acme.test")
    await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], email="bob@acme.test")
    for kwargs in ({"email": "Bob@ACME.test"}, {"member_id": member_id}):
        with pytest.raises(Conflict) as error:
            await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], **kwargs)
        assert error.value.code == "already_assigned"
    [subscription] = await _rows(runtime.engine, t.subscriptions)
    assert subscription.assigned_seats == 1
    assert await _count(runtime.engine, t.seats) == 1


async def test_the_same_person_may_hold_seats_in_two_pools(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    order_id = await pools.order(runtime.engine, pool["price_id"], pool["company_id"])
    await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], email="a@acme.test")
    seat = await seats.assign_seat(runtime, order_id=order_id, email="a@acme.test")
    assert seat.order_id == order_id


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "subscription_id"),
        ({"subscription_id": "sub_x", "order_id": "ord_x", "email": "a@a.test"}, "subscription_id"),
        ({"subscription_id": "POOL"}, "email"),
        ({"subscription_id": "POOL", "email": "not-an-email"}, "email"),
        ({"subscription_id": "POOL", "email": 42}, "email"),
        (
            {
                "subscription_id": "POOL",
                "email": "a@a.test",
                "metadata": {str(i): i for i in range(21)},
            },
            "metadata",
        ),
        ({"subscription_id": "POOL", "email": "a@a.test", "metadata": {"k": [1]}}, "metadata.k"),
        (
            {"subscription_id": "POOL", "email": "a@a.test", "metadata": {"k": "x" * 501}},
            "metadata.k",
        ),
        ({"subscription_id": "POOL", "email": "a@a.test", "metadata": "x"}, "metadata"),
    ],
)
async def test_bad_input_names_the_field_and_changes_nothing(
    runtime: Runtime, pool: dict[str, str], kwargs: dict[str, Any], field: str
) -> None:
    if kwargs.get("subscription_id") == "POOL":
        kwargs["subscription_id"] = pool["subscription_id"]
    with pytest.raises(ValidationFailed) as error:
        await seats.assign_seat(runtime, **kwargs)
    assert error.value.errors[0][0] == field
    assert await _count(runtime.engine, t.seats) == 0
    assert await _count(runtime.engine, t.outbox) == 0


async def test_pools_that_cannot_take_seats(runtime: Runtime, pool: dict[str, str]) -> None:
    engine = runtime.engine
    unpaid = await pools.order(engine, pool["price_id"], pool["company_id"], status="pending")
    ownerless = await pools.subscription(engine, pool["price_id"], None)
    canceled = await pools.subscription(
        engine, pool["price_id"], pool["company_id"], status="canceled"
    )
    cases = [
        ({"order_id": unpaid}, "order_not_paid"),
        ({"subscription_id": ownerless}, "company_required"),
        ({"subscription_id": canceled}, "subscription_not_active"),
    ]
    for kwargs, code in cases:
        with pytest.raises(Conflict) as error:
            await seats.assign_seat(runtime, email="a@acme.test", **kwargs)
        assert error.value.code == code
    assert await _count(engine, t.seats) == 0


async def test_unknown_and_foreign_ids_are_not_found(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    other_company, _ = await pools.company(runtime.engine, manager="eve@other.test")
    stranger = await pools.member(runtime.engine, other_company, "mallory@other.test")
    with pytest.raises(NotFound) as error:
        await seats.assign_seat(runtime, subscription_id="sub_nope", email="a@acme.test")
    assert error.value.errors == (("subscription_id", "no such subscription"),)
    with pytest.raises(NotFound) as error:
        await seats.assign_seat(
            runtime, subscription_id=pool["subscription_id"], member_id=stranger
        )
    assert error.value.errors[0][0] == "member_id"
    with pytest.raises(NotFound):  # a billing manager of another company sees nothing here
        await seats.assign_seat(
            runtime,
            subscription_id=pool["subscription_id"],
            email="a@acme.test",
            scope_company_id=other_company,
        )
    assert await _count(runtime.engine, t.seats) == 0
    [subscription] = await _rows(runtime.engine, t.subscriptions)
    assert subscription.assigned_seats == 0


async def test_claim_makes_a_member_and_grants_benefits(
    runtime: Runtime, pool: dict[str, str], clock: FixedClock
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="ann@acme.test"
    )
    assert seat.invitation is not None
    clock.advance(timedelta(hours=2))
    view = await seats.lookup_invitation(runtime, seat.invitation.token)
    assert (view.seat.id, view.company_name, view.product_name) == (seat.id, "Acme", "Team plan")
    claim = await seats.claim_seat(runtime, seat.invitation.token)
    assert claim.seat.status == "claimed"
    assert claim.seat.claimed_at == clock.now()
    [member] = await _rows(runtime.engine, t.members, t.members.c.email == "ann@acme.test")
    assert (claim.seat.member_id, member.role) == (member.id, "member")
    assert [g.member_id for g in claim.grants] == [member.id]
    assert [g.status for g in claim.grants] == ["granted"]
    assert len(await _events(runtime.engine, "seat.claimed")) == 1
    assert len(await _events(runtime.engine, "benefit_grant.created")) == 1


async def test_lookup_is_read_only(runtime: Runtime, pool: dict[str, str]) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    assert seat.invitation is not None
    before = await _rows(runtime.engine, t.seats)
    for _ in range(3):
        await seats.lookup_invitation(runtime, seat.invitation.token)
    assert await _rows(runtime.engine, t.seats) == before
    await seats.claim_seat(runtime, seat.invitation.token)


async def test_tokens_are_single_use_and_expire(
    runtime: Runtime, pool: dict[str, str], clock: FixedClock
) -> None:
    first = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    late = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="b@a.test"
    )
    assert first.invitation is not None
    assert late.invitation is not None
    await seats.claim_seat(runtime, first.invitation.token)
    clock.advance(timedelta(days=7))
    for token in (first.invitation.token, late.invitation.token, "unknown", "", "x" * 1000):
        with pytest.raises(InvalidToken):
            await seats.claim_seat(runtime, token)
        with pytest.raises(InvalidToken):
            await seats.lookup_invitation(runtime, token)
    [row] = await _rows(runtime.engine, t.seats, t.seats.c.id == late.id)
    assert row.status == "pending"


async def test_claim_by_an_existing_member_keeps_the_member(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="boss@acme.test"
    )
    assert seat.invitation is not None
    claim = await seats.claim_seat(runtime, seat.invitation.token)
    assert claim.seat.member_id == pool["manager_id"]
    assert await _count(runtime.engine, t.members) == 1


async def test_immediate_claim(runtime: Runtime, pool: dict[str, str]) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@acme.test", immediate_claim=True
    )
    assert (seat.status, seat.invitation) == ("claimed", None)
    assert seat.member_id is not None
    assert await _events(runtime.engine, "invitation.email") == []
    assert len(await _events(runtime.engine, "benefit_grant.created")) == 1
    [row] = await _rows(runtime.engine, t.seats)
    assert row.token_hash is None


async def test_benefits_are_not_granted_before_claim(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], email="a@acme.test")
    assert await _count(runtime.engine, t.benefit_grants) == 0


async def test_resend_replaces_the_token(
    runtime: Runtime, pool: dict[str, str], clock: FixedClock
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    clock.advance(timedelta(days=6))
    resent = await seats.resend_invitation(runtime, seat.id)
    assert seat.invitation is not None
    assert resent.invitation is not None
    assert resent.invitation.token != seat.invitation.token
    assert resent.invitation.expires_at == clock.now() + timedelta(days=7)
    with pytest.raises(InvalidToken):
        await seats.claim_seat(runtime, seat.invitation.token)
    clock.advance(timedelta(days=3))  # the first token would have expired by now
    claim = await seats.claim_seat(runtime, resent.invitation.token)
    assert claim.seat.status == "claimed"
    assert len(await _events(runtime.engine, "invitation.email")) == 2
    with pytest.raises(Conflict) as error:
        await seats.resend_invitation(runtime, seat.id)
    assert error.value.code == "seat_not_pending"
    with pytest.raises(NotFound):
        await seats.resend_invitation(runtime, "seat_nope")


async def test_revoke_frees_the_seat_and_revokes_benefits(
    runtime: Runtime, pool: dict[str, str], clock: FixedClock
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test", immediate_claim=True
    )
    clock.advance(timedelta(days=1))
    revoked = await seats.revoke_seat(runtime, seat.id)
    assert (revoked.status, revoked.revoked_at) == ("revoked", clock.now())
    [grant] = await _rows(runtime.engine, t.benefit_grants)
    assert grant.status == "revoked"
    [subscription] = await _rows(runtime.engine, t.subscriptions)
    assert subscription.assigned_seats == 0
    clock.advance(timedelta(days=1))
    again = await seats.revoke_seat(runtime, seat.id)
    assert again.revoked_at == revoked.revoked_at
    assert len(await _events(runtime.engine, "seat.revoked")) == 1
    assert len(await _events(runtime.engine, "benefit_grant.revoked")) == 1
    # The seat is free again, for the same person too.
    fresh = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    assert fresh.id != seat.id


async def test_revoking_a_pending_seat_kills_its_token(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    assert seat.invitation is not None
    await seats.revoke_seat(runtime, seat.id)
    with pytest.raises(InvalidToken):
        await seats.claim_seat(runtime, seat.invitation.token)


async def test_revoke_of_another_companys_seat_is_not_found(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    other_company, _ = await pools.company(runtime.engine, manager="eve@other.test")
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    for call in (seats.revoke_seat, seats.resend_invitation, seats.get_seat):
        with pytest.raises(NotFound):
            await call(runtime, seat.id, scope_company_id=other_company)
    assert (await seats.get_seat(runtime, seat.id)).status == "pending"


async def test_list_seats_counts_and_pages(runtime: Runtime, pool: dict[str, str]) -> None:
    made = [
        await seats.assign_seat(
            runtime, subscription_id=pool["subscription_id"], email=f"{n}@a.test"
        )
        for n in "abc"
    ]
    await seats.revoke_seat(runtime, made[1].id)
    listed = await seats.list_seats(runtime, subscription_id=pool["subscription_id"], limit=1)
    assert (listed.total_seats, listed.assigned_seats, listed.available_seats) == (3, 2, 1)
    assert [s.id for s in listed.page.data] == [made[0].id]
    assert listed.page.has_more
    rest = await seats.list_seats(
        runtime, subscription_id=pool["subscription_id"], cursor=listed.page.next_cursor
    )
    assert [s.id for s in rest.page.data] == [made[2].id]
    assert not rest.page.has_more
    everything = await seats.list_seats(
        runtime, subscription_id=pool["subscription_id"], include_revoked=True
    )
    assert [s.id for s in everything.page.data] == [s.id for s in made]
    with pytest.raises(ValidationFailed):
        await seats.list_seats(runtime, subscription_id=pool["subscription_id"], limit=101)
    with pytest.raises(NotFound):
        await seats.list_seats(runtime, order_id="ord_nope")


async def test_removing_a_members_seats(runtime: Runtime, pool: dict[str, str]) -> None:
    member_id = await pools.member(runtime.engine, pool["company_id"], "bob@acme.test")
    order_id = await pools.order(runtime.engine, pool["price_id"], pool["company_id"])
    await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], member_id=member_id)
    await seats.assign_seat(runtime, order_id=order_id, member_id=member_id, immediate_claim=True)
    async with runtime.transaction() as uow:
        revoked = await seats.revoke_member_seats(uow, runtime, member_id=member_id)
        await uow.commit()
    assert sorted(s.status for s in revoked) == ["revoked", "revoked"]
    for pool_table in (t.subscriptions, t.orders):
        assert all(row.assigned_seats == 0 for row in await _rows(runtime.engine, pool_table))
    assert {g.status for g in await _rows(runtime.engine, t.benefit_grants)} == {"revoked"}


async def test_the_counter_agrees_with_the_rows(runtime: Runtime, pool: dict[str, str]) -> None:
    a = await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], email="a@a.test")
    await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], email="b@a.test")
    await seats.revoke_seat(runtime, a.id)
    async with runtime.engine.connect() as c:
        live = await Seats(c).count_live(pool["subscription_id"])
    [subscription] = await _rows(runtime.engine, t.subscriptions)
    assert live == subscription.assigned_seats == 1


async def test_a_claim_can_open_its_claimers_session_in_the_same_transaction(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    seat = await seats.assign_seat(
        runtime, subscription_id=pool["subscription_id"], email="a@a.test"
    )
    assert seat.invitation is not None
    claim = await seats.claim_seat(runtime, seat.invitation.token, open_session=True)
    assert claim.session is not None
    who = await customer_sessions.authenticate_session(runtime, claim.session.token)
    assert who is not None
    assert (who.member_id, who.company_id) == (claim.seat.member_id, pool["company_id"])
    assert await _count(runtime.engine, t.customer_sessions) == 1
