"""The sandbox clock: shared through its row, forward only, and moving it runs what falls due,
in time order."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.bootstrap import build_runtime
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock, SandboxClock, SystemClock
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.services import purchases, renewals, sandbox
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc


@pytest.fixture
def sandboxed(runtime: Runtime) -> Runtime:
    """The runtime with the sandbox's own clock, as ``build_runtime`` wires it."""
    return replace(runtime, clock=SandboxClock(utc(2027, 1, 1)))


async def _stored(runtime: Runtime) -> object:
    async with runtime.engine.connect() as c:
        return (await c.execute(select(t.sandbox_clock.c.now))).scalar_one()


async def test_reading_and_moving_the_clock(sandboxed: Runtime) -> None:
    assert await sandbox.read_clock(sandboxed) == utc(2027, 1, 1)  # nothing stored yet
    now, renewed = await sandbox.advance_clock(sandboxed, utc(2027, 1, 3, 12))
    assert (now, renewed) == (utc(2027, 1, 3, 12), [])
    assert await _stored(sandboxed) == utc(2027, 1, 3, 12)
    assert sandboxed.clock.now() == utc(2027, 1, 3, 12)
    assert await sandbox.advance_clock(sandboxed, utc(2027, 1, 3, 12)) == (utc(2027, 1, 3, 12), [])
    with pytest.raises(ValidationFailed) as caught:
        await sandbox.advance_clock(sandboxed, utc(2027, 1, 2))
    assert caught.value.errors[0][0] == "now"
    with pytest.raises(ValidationFailed):
        await sandbox.advance_clock(sandboxed, utc(2027, 2, 1).replace(tzinfo=None))
    # Another process's clock follows the row when it reads it.
    other = replace(sandboxed, clock=SandboxClock(None))
    assert await sandbox.read_clock(other) == utc(2027, 1, 3, 12)
    assert other.clock.now() == utc(2027, 1, 3, 12)


async def test_the_sandbox_is_off_outside_sandbox_mode(runtime: Runtime) -> None:
    off = replace(runtime, settings=runtime.settings.model_copy(update={"sandbox": False}))
    with pytest.raises(NotFound):
        await sandbox.read_clock(off)
    with pytest.raises(NotFound):
        await sandbox.advance_clock(off, utc(2028, 1, 1))
    with pytest.raises(NotFound):  # a clock that cannot be moved
        await sandbox.read_clock(replace(runtime, clock=SystemClock()))


async def test_moving_the_clock_renews_every_boundary_in_time_order(
    sandboxed: Runtime, clock: FixedClock
) -> None:
    rt = sandboxed
    monthly, annual = await shop.product(rt, shop.per_seat(1000), shop.per_seat(9000, "year"))
    company_id = await shop.company(rt)
    a = await shop.subscribe(rt, monthly, company_id, 1)  # Jan 1
    await sandbox.advance_clock(rt, utc(2027, 1, 15))
    b = await shop.subscribe(rt, monthly, company_id, 2)  # Jan 15
    c = await shop.subscribe(rt, annual, company_id, 1)  # Jan 15, yearly
    now, renewed = await sandbox.advance_clock(rt, utc(2027, 4, 10))
    assert now == utc(2027, 4, 10)
    assert renewed == [a, b, a, b, a]
    invoices = await shop.rows(rt.engine, t.invoices, t.invoices.c.reason == "subscription_cycle")
    # Each renewal happened at the time it fell due, in that order.
    assert [
        (row.subscription_id, row.created_at) for row in sorted(invoices, key=lambda r: r.number)
    ] == [
        (a, utc(2027, 2, 1)),
        (b, utc(2027, 2, 15)),
        (a, utc(2027, 3, 1)),
        (b, utc(2027, 3, 15)),
        (a, utc(2027, 4, 1)),
    ]
    assert (await purchases.get_subscription(rt, c)).current_period_end == utc(2028, 1, 15)
    _, renewed = await sandbox.advance_clock(rt, utc(2028, 1, 15))
    assert (renewed[:3], renewed.count(a), renewed.count(b), renewed.count(c)) == (
        [b, a, b],
        9,
        10,
        1,
    )
    del clock


async def test_dunning_plays_out_while_the_clock_moves(sandboxed: Runtime) -> None:
    rt = sandboxed
    (price_id,) = await shop.product(rt)
    company_id = await shop.company(rt)
    sub_id = await shop.subscribe(
        rt, price_id, company_id, 1, payment_method="pm_card_fail_after_first"
    )
    _, renewed = await sandbox.advance_clock(rt, utc(2027, 3, 1))
    assert renewed == [sub_id]  # Feb 1; canceled on Feb 15, so never again
    sub = await purchases.get_subscription(rt, sub_id)
    assert (sub.status, sub.canceled_at) == ("canceled", utc(2027, 2, 15))
    attempts = await shop.rows(rt.engine, t.payments, t.payments.c.status == "failed")
    assert [p.created_at for p in sorted(attempts, key=lambda p: p.created_at)] == [
        utc(2027, 2, 1),
        utc(2027, 2, 2),
        utc(2027, 2, 4),
        utc(2027, 2, 8),
    ]


async def test_build_runtime_loads_the_sandbox_clock_from_its_row(
    sandboxed: Runtime, database_url: str
) -> None:
    await sandbox.advance_clock(sandboxed, utc(2030, 5, 5))
    rt = build_runtime(Settings(database_url=database_url, sandbox=True))
    try:
        assert isinstance(rt.clock, SandboxClock)
        assert rt.clock.now() == utc(2030, 5, 5)
        # The worker's run follows a move made elsewhere.
        await sandbox.advance_clock(sandboxed, utc(2030, 6, 1))
        assert await renewals.renew_due(rt) == []
        assert rt.clock.now() == utc(2030, 6, 1)
    finally:
        await rt.engine.dispose()
    # Without the sandbox: the system clock (and no payments: the local gateway needs it).
    plain = build_runtime(Settings(database_url=database_url, sandbox=False), payments=False)
    try:
        assert isinstance(plain.clock, SystemClock)
    finally:
        await plain.engine.dispose()
