"""Claims and revocations in two statements (PostgreSQL): what the first statement read is
checked again by the second, which writes nothing when it changed meanwhile; the use case then
goes step by step and answers as it always did."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.claiming import ClaimRows
from seatledger.domain.errors import InvalidToken
from seatledger.domain.ids import new_id
from seatledger.domain.seat import hash_token
from seatledger.services import claims, seats
from seatledger.services.runtime import Runtime
from tests.integration import pools

_COUNTED = (t.seats, t.members, t.benefit_grants, t.customer_sessions, t.outbox, t.seat_pools)

pytestmark = pytest.mark.postgresql_only  # SQLite claims and revokes step by step


@pytest.fixture
async def pool(runtime: Runtime) -> dict[str, str]:
    price_id = await pools.product(runtime.engine, benefits=2)
    company_id, manager_id = await pools.company(runtime.engine)
    subscription_id = await pools.subscription(runtime.engine, price_id, company_id, seats=3)
    return {"company_id": company_id, "manager_id": manager_id, "subscription_id": subscription_id}


async def _state(runtime: Runtime) -> dict[str, Any]:
    """Every row the two paths write, as it stands."""
    async with runtime.engine.connect() as c:
        state: dict[str, Any] = {}
        for table in _COUNTED:
            rows = await c.execute(select(table).order_by(*table.primary_key.columns))
            state[table.name] = [tuple(row) for row in rows]
        state["count"] = (await c.execute(select(func.count()).select_from(t.seats))).scalar()
    return state


async def _assigned(runtime: Runtime, pool: dict[str, str], email: str) -> str:
    seat = await seats.assign_seat(runtime, subscription_id=pool["subscription_id"], email=email)
    assert seat.invitation is not None
    return seat.invitation.token


async def test_a_claim_whose_seat_was_revoked_meanwhile_writes_nothing(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    token = await _assigned(runtime, pool, "ann@acme.test")
    now = runtime.clock.now()
    async with runtime.statement() as alone:
        plan = await alone.claims.plan(hash_token(token), now)
    assert plan is not None
    assert plan.live_member_id is None
    assert len(plan.benefits) == 2
    await seats.revoke_seat(runtime, plan.seat.id)
    before = await _state(runtime)
    rows = ClaimRows(member=None, grants=[], session=None, events=[])
    async with runtime.statement() as alone:
        # an existing member, so that only the seat's condition can refuse
        claimed = plan.seat.claim(pool["manager_id"], now)
        assert not await alone.claims.claim(claimed, hash_token(token), now, rows)
    assert await _state(runtime) == before
    with pytest.raises(InvalidToken):
        await claims.claim_seat(runtime, token)


async def test_a_member_of_that_address_made_meanwhile_is_the_one_the_claim_links(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    token = await _assigned(runtime, pool, "bob@acme.test")
    now = runtime.clock.now()
    async with runtime.statement() as alone:
        plan = await alone.claims.plan(hash_token(token), now)
    assert plan is not None
    assert plan.live_member_id is None
    existing = await pools.member(runtime.engine, pool["company_id"], "bob@acme.test")
    before = await _state(runtime)
    member_id = new_id("mem")
    rows = ClaimRows(
        member={
            "id": member_id,
            "company_id": plan.seat.company_id,
            "email": plan.seat.email,
            "role": "member",
            "created_at": now,
        },
        grants=[],
        session=None,
        events=[],
    )
    async with runtime.statement() as alone:
        # the second statement breaks uq_members_company_email: nothing of it is kept
        assert not await alone.claims.claim(
            plan.seat.claim(member_id, now), hash_token(token), now, rows
        )
    assert await _state(runtime) == before
    claim = await claims.claim_seat(runtime, token)
    assert claim.seat.member_id == existing
    assert len(claim.grants) == 2


async def test_a_revocation_whose_seat_was_claimed_meanwhile_writes_nothing(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    token = await _assigned(runtime, pool, "cy@acme.test")
    seat_id = (await claims.lookup_invitation(runtime, token)).seat.id
    async with runtime.statement() as alone:
        plan = await alone.revocations.plan(seat_id, scope_company_id=None)
    assert plan is not None
    assert plan.seat.status == "pending"
    assert plan.grants == ()
    claim = await claims.claim_seat(runtime, token)
    before = await _state(runtime)
    now = runtime.clock.now()
    async with runtime.statement() as alone:
        # the seat is claimed now, and has grants the plan did not see
        assert not await alone.revocations.revoke(plan, now, [])
    assert await _state(runtime) == before
    revoked = await seats.revoke_seat(runtime, seat_id)
    assert revoked.status == "revoked"
    async with runtime.engine.connect() as c:
        statuses = await c.execute(
            select(t.benefit_grants.c.id, t.benefit_grants.c.status).where(
                t.benefit_grants.c.seat_id == seat_id
            )
        )
        assert dict(statuses.all()) == {grant.id: "revoked" for grant in claim.grants}
        assigned = await c.execute(
            select(t.seat_pools.c.assigned_seats).where(
                t.seat_pools.c.id == pool["subscription_id"]
            )
        )
        assert assigned.scalar_one() == 0


async def test_a_revocation_whose_grants_changed_meanwhile_writes_nothing(
    runtime: Runtime, pool: dict[str, str]
) -> None:
    token = await _assigned(runtime, pool, "di@acme.test")
    claim = await claims.claim_seat(runtime, token)
    async with runtime.statement() as alone:
        plan = await alone.revocations.plan(claim.seat.id, scope_company_id=None)
    assert plan is not None
    assert sorted(g.id for g in plan.grants) == sorted(g.id for g in claim.grants)
    async with runtime.transaction() as uow:  # one grant revoked by another use case
        await uow.grants.revoke([claim.grants[0].id], runtime.clock.now())
        await uow.commit()
    before = await _state(runtime)
    async with runtime.statement() as alone:
        assert not await alone.revocations.revoke(plan, runtime.clock.now(), [])
    assert await _state(runtime) == before
