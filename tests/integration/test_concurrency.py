"""Concurrency: a pool is never oversold, and a claim racing a revoke ends consistent."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seats import Seats
from seatledger.domain.errors import Conflict, InvalidToken
from seatledger.services import seats
from seatledger.services.runtime import Runtime
from tests.integration import pools

ROOT = Path(__file__).resolve().parents[2]


async def _pool(runtime: Runtime, *, seats_bought: int) -> str:
    price_id = await pools.product(runtime.engine)
    company_id, _ = await pools.company(runtime.engine)
    return await pools.subscription(runtime.engine, price_id, company_id, seats=seats_bought)


async def _live_and_counter(runtime: Runtime, subscription_id: str) -> tuple[int, int]:
    async with runtime.engine.connect() as c:
        live = await Seats(c).count_live(subscription_id)
        counter = (
            await c.execute(
                select(t.seat_pools.c.assigned_seats).where(t.seat_pools.c.id == subscription_id)
            )
        ).scalar_one()
    return live, counter


async def test_twenty_simultaneous_assignments_to_five_free_seats(runtime: Runtime) -> None:
    subscription_id = await _pool(runtime, seats_bought=5)

    async def one(n: int) -> str:
        try:
            await seats.assign_seat(runtime, subscription_id=subscription_id, email=f"p{n}@a.test")
        except Conflict as error:
            return error.code
        return "ok"

    outcomes = await asyncio.gather(*(one(n) for n in range(20)))
    assert outcomes.count("ok") == 5
    assert outcomes.count("no_seats_available") == 15
    assert await _live_and_counter(runtime, subscription_id) == (5, 5)


async def test_two_processes_never_oversell(runtime: Runtime, database_url: str) -> None:
    subscription_id = await _pool(runtime, seats_bought=5)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.assign_worker",
            database_url,
            subscription_id,
            prefix,
            "10",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for prefix in ("left", "right")
    ]
    outputs = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    counts = [tuple(map(int, out.split())) for out, _ in outputs]
    assert sum(ok for ok, _ in counts) == 5
    assert sum(refused for _, refused in counts) == 15
    assert await _live_and_counter(runtime, subscription_id) == (5, 5)


async def test_a_claim_racing_a_revoke_ends_consistent(runtime: Runtime) -> None:
    subscription_id = await _pool(runtime, seats_bought=10)
    for n in range(10):
        seat = await seats.assign_seat(
            runtime, subscription_id=subscription_id, email=f"r{n}@a.test"
        )
        assert seat.invitation is not None
        claim = seats.claim_seat(runtime, seat.invitation.token)
        revoke = seats.revoke_seat(runtime, seat.id)
        results = await asyncio.gather(claim, revoke, return_exceptions=True)
        claim_result, revoke_result = results
        assert not isinstance(revoke_result, BaseException)
        final = await seats.get_seat(runtime, seat.id)
        assert final.status == "revoked"  # the revoke always lands, before or after the claim
        async with runtime.engine.connect() as c:
            grants = (
                (
                    await c.execute(
                        select(t.benefit_grants.c.status).where(
                            t.benefit_grants.c.seat_id == seat.id
                        )
                    )
                )
                .scalars()
                .all()
            )
        if isinstance(claim_result, BaseException):
            assert isinstance(claim_result, InvalidToken)  # revoked first: the token was dead
            assert grants == []
        else:
            assert set(grants) == {"revoked"}  # claimed first: its grants went with the seat
    assert await _live_and_counter(runtime, subscription_id) == (0, 0)
