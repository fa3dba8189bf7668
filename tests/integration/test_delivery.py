"""The delivery loop (SPEC §10): each outbox event fanned out to every channel once, in the
transaction that marks it delivered; several loops share the backlog; a channel that fails on
an event leaves it for the next round without holding back the others."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

import pytest
from sqlalchemy import insert, select

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import OutboxEvent
from seatledger.services import delivery
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime
from tests.integration.outbox import emit, undelivered


@dataclass
class Recorder:
    """A channel that writes a row per event it fans out (so a rolled-back fan-out leaves none)
    and remembers what it saw; it fails on the event types in ``failing``."""

    name: str = "recorder"
    failing: set[str] = field(default_factory=set)
    pause: float = 0.0  # seconds per event, with the batch's rows locked
    seen: list[str] = field(default_factory=list)
    sends: int = 0

    async def fan_out(self, uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
        if self.pause:
            await asyncio.sleep(self.pause)
        # A row of the channel's own, as an email or a webhook delivery would be (in a table
        # with no foreign keys, keyed by channel and event).
        await uow.connection.execute(
            insert(t.idempotency_keys).values(
                credential=self.name,
                path="/delivery",
                key=event.id,
                request_hash="-",
                status="done",
                created_at=rt.clock.now(),
            )
        )
        if event.type in self.failing:
            raise RuntimeError(f"{self.name} cannot take {event.type}")
        self.seen.append(event.id)

    async def send_due(self, rt: Runtime) -> int:
        self.sends += 1
        return 0

    def channel(self) -> Channel:
        return Channel(self.name, self.fan_out, self.send_due)


async def channel_rows(rt: Runtime, name: str) -> Counter[str]:
    async with rt.reading() as uow:
        query = select(t.idempotency_keys.c.key).where(t.idempotency_keys.c.credential == name)
        return Counter(row.key for row in (await uow.connection.execute(query)).all())


async def test_dispatch_fans_each_event_out_to_every_channel_and_marks_it(runtime: Runtime) -> None:
    ids = await emit(runtime, "company.created", "invitation.email", "seat.assigned")
    emails, webhooks = Recorder("emails"), Recorder("webhooks")
    channels = [emails.channel(), webhooks.channel()]
    assert await delivery.dispatch(runtime, channels, limit=2) == 2
    assert emails.seen == webhooks.seen == ids[:2]  # oldest first, internal records too
    assert await delivery.dispatch(runtime, channels) == 1
    assert await delivery.dispatch(runtime, channels) == 0
    assert emails.seen == webhooks.seen == ids
    assert await undelivered(runtime) == []
    assert await channel_rows(runtime, "emails") == Counter(ids)
    async with runtime.reading() as uow:
        times = (await uow.connection.execute(select(t.outbox.c.delivered_at))).scalars().all()
    assert set(times) == {runtime.clock.now()}


async def test_a_failing_channel_leaves_the_event_for_the_next_round(runtime: Runtime) -> None:
    ids = await emit(runtime, "seat.assigned", "seat.claimed", "seat.revoked")
    good, bad = Recorder("good"), Recorder("bad", failing={"seat.claimed"})
    channels = [good.channel(), bad.channel()]
    done = await delivery.run_round(runtime, channels)
    assert (done.delivered, done.failed) == (2, 1)
    assert good.sends == bad.sends == 1  # sending still ran
    # The failed event's fan-out was rolled back for every channel: no row, not delivered.
    assert await undelivered(runtime) == [ids[1]]
    assert await channel_rows(runtime, "good") == Counter([ids[0], ids[2]])
    assert await channel_rows(runtime, "bad") == Counter([ids[0], ids[2]])

    again = await delivery.run_round(runtime, channels)
    assert (again.delivered, again.failed) == (0, 1)
    bad.failing.clear()  # the channel recovers: the next round fans the event out, once
    last = await delivery.run_round(runtime, channels)
    assert (last.delivered, last.failed) == (1, 0)
    assert await undelivered(runtime) == []
    assert await channel_rows(runtime, "good") == Counter(ids)
    # Fan-outs that were rolled back ran (``good`` saw the event each round: in the batch, then
    # on its own), but left nothing; ``bad`` took the event once, in the last round.
    assert bad.seen.count(ids[1]) == 1
    assert bad.seen[-1] == ids[1]
    assert good.seen.count(ids[1]) == 5


async def test_failing_events_never_hold_back_the_ones_behind_them(runtime: Runtime) -> None:
    ids = await emit(runtime, *["seat.claimed"] * 5, "seat.assigned", "seat.revoked")
    channel = Recorder(failing={"seat.claimed"})
    done = await delivery.run_round(runtime, [channel.channel()], batch_size=2)
    assert (done.delivered, done.failed) == (2, 5)
    assert channel.seen == ids[5:]
    assert sorted(await undelivered(runtime)) == sorted(ids[:5])


async def test_a_round_is_bounded_and_the_next_one_goes_on(runtime: Runtime) -> None:
    ids = await emit(runtime, *["member.added"] * 7)
    channel = Recorder()
    done = await delivery.run_round(runtime, [channel.channel()], batch_size=2, max_batches=2)
    assert done.delivered == 4
    assert channel.sends == 1
    done = await delivery.run_round(runtime, [channel.channel()], batch_size=2, max_batches=2)
    assert done.delivered == 3
    assert channel.seen == ids
    nothing = await delivery.run_round(runtime, [channel.channel()])
    assert nothing.nothing_done


async def test_a_channel_that_fails_to_send_does_not_stop_the_others(runtime: Runtime) -> None:
    await emit(runtime, "company.created")

    async def broken(rt: Runtime) -> int:
        raise ConnectionError("smtp is down")

    sender = Recorder("webhooks")
    failing = Channel("emails", Recorder("emails").fan_out, broken)
    done = await delivery.run_round(runtime, [failing, sender.channel()])
    assert done.delivered == 1
    assert done.sent == (("emails", 0), ("webhooks", 0))
    assert sender.sends == 1


async def test_a_round_abandoned_halfway_loses_nothing(runtime: Runtime) -> None:
    ids = await emit(runtime, "seat.assigned", "seat.claimed")
    slow = Recorder(pause=10)
    task = asyncio.create_task(delivery.dispatch(runtime, [slow.channel()]))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(await undelivered(runtime)) == sorted(ids)
    quick = Recorder()
    assert await delivery.dispatch(runtime, [quick.channel()]) == 2
    assert quick.seen == ids


async def test_two_loops_share_the_backlog_and_fan_out_each_event_once(
    runtime: Runtime, database_url: str
) -> None:
    """Two runtimes on one database, as two processes would be: on PostgreSQL they take
    batches side by side under SKIP LOCKED (each skips the rows the other holds); on SQLite
    their write transactions take turns. Either way, each event is fanned out exactly once."""
    ids = await emit(runtime, *["seat.assigned"] * 40)
    other = Runtime(create_engine(database_url), runtime.clock, runtime.settings, runtime.gateway)
    first, second = Recorder("first", pause=0.01), Recorder("second", pause=0.01)
    try:

        async def drain(rt: Runtime, recorder: Recorder) -> None:
            while await delivery.dispatch(rt, [recorder.channel()], limit=5):
                await asyncio.sleep(0)

        await asyncio.gather(drain(runtime, first), drain(other, second))
    finally:
        await other.engine.dispose()
    assert sorted(first.seen + second.seen) == sorted(ids)
    assert await undelivered(runtime) == []
    if runtime.engine.dialect.name == "postgresql":
        assert first.seen
        assert second.seen  # both worked at once: neither waited for the other's batch


@pytest.mark.postgresql_only  # SKIP LOCKED is PostgreSQL's; SQLite serialises its writers
async def test_skip_locked_passes_over_a_batch_another_loop_holds(
    runtime: Runtime, database_url: str
) -> None:
    ids = await emit(runtime, *["seat.claimed"] * 6)
    other = Runtime(create_engine(database_url), runtime.clock, runtime.settings, runtime.gateway)
    holder = Recorder("holder", pause=0.5)  # holds its three rows locked for 1.5 s
    try:
        holding = asyncio.create_task(delivery.dispatch(runtime, [holder.channel()], limit=3))
        await asyncio.sleep(0.2)
        passer = Recorder("passer")
        # Not blocked by the held rows: it takes the three behind them, at once.
        taken = await asyncio.wait_for(delivery.dispatch(other, [passer.channel()]), 1.0)
        assert taken == 3
        assert passer.seen == ids[3:]
        assert await holding == 3
        assert holder.seen == ids[:3]
        assert await delivery.dispatch(other, [passer.channel()]) == 0
    finally:
        await other.engine.dispose()
    assert await undelivered(runtime) == []


async def test_a_running_loop_starts_the_next_round_at_once_after_work(runtime: Runtime) -> None:
    ids = await emit(runtime, "seat.assigned", "seat.claimed")
    channel, stop = Recorder(), asyncio.Event()

    async def send_due(rt: Runtime) -> int:
        channel.sends += 1
        if channel.sends == 3:  # three rounds: the events, a send, then nothing to do
            stop.set()
        return 1 if channel.sends == 2 else 0

    busy = Channel("busy", channel.fan_out, send_due)
    # An hour between idle rounds: only rounds that moved work along are followed at once.
    await asyncio.wait_for(delivery.deliver_until(runtime, [busy], stop, interval=3600), 10)
    assert channel.seen == ids
    assert channel.sends == 3
