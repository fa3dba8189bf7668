"""Races on one subscription, each side on a connection of its own (PostgreSQL runs them at
once; SQLite serialises its writers, and the outcome must be the same):

* an assignment racing the subscription's cancellation: no deadlock, no live seat in the
  canceled pool, and an assignment that came too late is a clean 409
  ``subscription_not_active``;
* dunning racing the growth of a ``members`` pool (assignments to a full pool, each adding a
  seat): the failed renewal that makes it ``past_due``, and the end of the grace period that
  cancels it. No deadlock, no seat beyond the pool's purchased count, the counter equal to
  the live seats, and a pool that follows its people counting exactly its people.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import SubscriptionNotActive
from seatledger.domain.seat import Seat
from seatledger.services import cancellation, purchases, renewals, seats
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc

ROUNDS = 6
HELD = 5  # claimed seats the cancellation revokes, so it holds the pool's row a while
RACERS = 6  # assignments sent at once with the cancellation or the dunning run


async def _pool_counts(rt: Runtime, sub_id: str) -> tuple[int, int, int]:
    """(purchased seats, the pool's counter, live seats counted from the seat rows)."""
    [pool] = await shop.rows(rt.engine, t.seat_pools, t.seat_pools.c.id == sub_id)
    live = await shop.count(
        rt.engine, t.seats, t.seats.c.pool_id == sub_id, t.seats.c.status != "revoked"
    )
    return pool.seats, pool.assigned_seats, live


def _assignments(rt: Runtime, sub_id: str, tag: str) -> list[Any]:
    """Assignments of every shape: one statement to an email (PostgreSQL), step by step with
    an immediate claim."""
    return [
        seats.assign_seat(
            rt, subscription_id=sub_id, email=f"{tag}{k}@acme.test", immediate_claim=k % 2 == 1
        )
        for k in range(RACERS)
    ]


def _only_refusals(outcomes: list[Any]) -> list[Seat]:
    """The seats assigned; every other outcome must be the clean refusal."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            assert isinstance(outcome, SubscriptionNotActive), repr(outcome)
    return [outcome for outcome in outcomes if isinstance(outcome, Seat)]


async def test_an_assignment_racing_a_cancellation_never_lands_in_the_canceled_pool(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime, benefits=2)
    clock.set(utc(2027, 1, 1))
    for n in range(ROUNDS):
        company_id = await shop.company(runtime, f"boss{n}@acme.test")
        sub_id = await shop.subscribe(runtime, price_id, company_id, HELD + RACERS)
        for k in range(HELD):
            await seats.assign_seat(
                runtime, subscription_id=sub_id, email=f"h{k}@acme.test", immediate_claim=True
            )
        outcomes = await asyncio.gather(
            cancellation.cancel_subscription(runtime, sub_id, at_period_end=False),
            *_assignments(runtime, sub_id, f"r{n}-"),
            return_exceptions=True,
        )
        assert not isinstance(outcomes[0], BaseException), repr(outcomes[0])
        _only_refusals(outcomes[1:])  # a seat assigned first was revoked with the rest
        assert (await purchases.get_subscription(runtime, sub_id)).status == "canceled"
        _, counter, live = await _pool_counts(runtime, sub_id)
        assert (counter, live) == (0, 0)
        granted = await shop.count(
            runtime.engine,
            t.benefit_grants,
            t.benefit_grants.c.status == "granted",
            t.benefit_grants.c.seat_id.in_(select(t.seats.c.id).where(t.seats.c.pool_id == sub_id)),
        )
        assert granted == 0


async def _full_members_pool(rt: Runtime, clock: FixedClock, price_id: str, n: int) -> str:
    """Two members-mode seats bought on Jan 1 with a card that declines from the second charge
    on, both held (the billing manager's and one more)."""
    clock.set(utc(2027, 1, 1))
    company_id = await shop.company(rt, f"boss{n}@acme.test")
    sub_id = await shop.subscribe(
        rt, price_id, company_id, 2, payment_method="pm_card_fail_after_first"
    )
    await seats.assign_seat(rt, subscription_id=sub_id, email="held@acme.test")
    assert await _pool_counts(rt, sub_id) == (2, 2, 2)
    return sub_id


async def _race_the_run(rt: Runtime, sub_id: str, tag: str) -> list[Any]:
    """The run of everything due, at once with assignments that each grow the pool; then the
    run again for what it skipped (it passes over rows an assignment holds, never waits)."""
    outcomes = await asyncio.gather(
        renewals.run_due(rt), *_assignments(rt, sub_id, tag), return_exceptions=True
    )
    assert not isinstance(outcomes[0], BaseException), repr(outcomes[0])
    await renewals.run_due(rt)
    return outcomes[1:]


async def test_dunning_racing_a_growing_members_pool_keeps_it_counted(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime, shop.per_seat(1000, seat_sync="members"))
    for n in range(ROUNDS // 2):
        sub_id = await _full_members_pool(runtime, clock, price_id, n)
        # The renewal is declined (past_due) while the pool grows: every assignment lands.
        clock.set(utc(2027, 2, 1))
        grown = await _race_the_run(runtime, sub_id, f"g{n}-")
        assert len(_only_refusals(grown)) == RACERS
        subscription = await purchases.get_subscription(runtime, sub_id)
        assert subscription.status == "past_due"
        # A pool that follows its people counts them: grown one by one, or recounted after.
        assert await _pool_counts(runtime, sub_id) == (2 + RACERS, 2 + RACERS, 2 + RACERS)
        for day in (2, 4, 8):  # the retries, declined
            clock.set(utc(2027, 2, day))
            await renewals.run_due(runtime)
        # The grace period ends (dunning cancels) while the pool grows again.
        clock.set(utc(2027, 2, 15))
        late = await _race_the_run(runtime, sub_id, f"l{n}-")
        _only_refusals(late)  # those that landed first were revoked by the cancellation
        subscription = await purchases.get_subscription(runtime, sub_id)
        assert subscription.status == "canceled"
        purchased, counter, live = await _pool_counts(runtime, sub_id)
        assert (counter, live) == (0, 0)
        assert purchased >= 2 + RACERS
