"""One lock order (the pool's row, then the subscription's, then the seats'): a cancellation
racing revocations of the same pool's seats, and revocations racing each other, finish without
a deadlock (PostgreSQL detects one and fails a transaction: a 500) and leave every seat
revoked exactly once."""

from __future__ import annotations

import asyncio

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.services import cancellation, seats
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc

ROUNDS = 8
SEATS = 6


async def _claimed_pool(rt: Runtime, price_id: str, n: int) -> tuple[str, list[str]]:
    company_id = await shop.company(rt, f"boss{n}@acme.test")
    sub_id = await shop.subscribe(rt, price_id, company_id, SEATS)
    held = [
        (
            await seats.assign_seat(
                rt, subscription_id=sub_id, email=f"p{k}@acme.test", immediate_claim=True
            )
        ).id
        for k in range(SEATS)
    ]
    return sub_id, held


async def test_a_cancellation_racing_revocations_never_deadlocks(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime, benefits=2)
    clock.set(utc(2027, 1, 1))
    for n in range(ROUNDS):
        sub_id, held = await _claimed_pool(runtime, price_id, n)
        # The cancellation revokes in id order; these go the other way round, each on a
        # connection of its own, so a revocation holds a seat the cancellation wants next.
        outcomes = await asyncio.gather(
            cancellation.cancel_subscription(runtime, sub_id, at_period_end=False),
            *(seats.revoke_seat(runtime, seat_id) for seat_id in reversed(held)),
            return_exceptions=True,
        )
        assert [o for o in outcomes if isinstance(o, BaseException)] == []
        rows = await shop.rows(runtime.engine, t.seats, t.seats.c.pool_id == sub_id)
        assert {row.status for row in rows} == {"revoked"}
        [pool] = await shop.rows(runtime.engine, t.seat_pools, t.seat_pools.c.id == sub_id)
        assert pool.assigned_seats == 0
        live = await shop.count(
            runtime.engine,
            t.benefit_grants,
            t.benefit_grants.c.seat_id.in_(held),
            t.benefit_grants.c.status == "granted",
        )
        assert live == 0
        # Each seat's revocation was announced once, by whichever got there first.
        revoked_events = [
            e for e in await shop.events(runtime.engine, "seat.revoked") if e["id"] in held
        ]
        assert len(revoked_events) == SEATS
