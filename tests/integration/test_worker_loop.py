"""The worker's loop in this process: delivery rounds between renewal rounds, and a clean stop
on SIGTERM (the round under way finishes) or, on a second signal, an abandoned round that
loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import OutboxEvent
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime
from seatledger.worker.loop import run_worker
from tests.integration.outbox import emit, undelivered


class Slow:
    """A channel whose fan-out takes ``pause`` seconds per event; ``busy`` is set when the
    first one starts."""

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.busy = asyncio.Event()
        self.seen: list[str] = []

    async def fan_out(self, uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
        self.busy.set()
        await asyncio.sleep(self.pause)
        self.seen.append(event.id)

    async def send_due(self, rt: Runtime) -> int:
        return 0

    def channel(self) -> Channel:
        return Channel("slow", self.fan_out, self.send_due)


async def _worker(rt: Runtime, slow: Slow, lines: list[str]) -> asyncio.Task[bool]:
    return asyncio.create_task(
        run_worker(
            rt,
            interval=3600,
            once=False,
            delivery_interval=0.05,
            channels=[slow.channel()],
            echo=lines.append,
            warn=lines.append,
        )
    )


async def test_sigterm_stops_the_worker_after_the_round_under_way(runtime: Runtime) -> None:
    ids = await emit(runtime, "seat.assigned", "seat.claimed", "seat.revoked")
    slow, lines = Slow(0.2), []
    worker = await _worker(runtime, slow, lines)
    await asyncio.wait_for(slow.busy.wait(), 10)
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(worker, 10) is True
    assert slow.seen == ids  # the round was finished, not cut short
    assert await undelivered(runtime) == []
    assert lines == ["3 events delivered"]


async def test_a_second_signal_abandons_the_round_and_loses_nothing(runtime: Runtime) -> None:
    ids = await emit(runtime, "seat.assigned", "seat.claimed")
    slow, lines = Slow(30), []
    worker = await _worker(runtime, slow, lines)
    await asyncio.wait_for(slow.busy.wait(), 10)
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(0.1)
    assert not worker.done()  # the first signal waits for the round
    os.kill(os.getpid(), signal.SIGINT)
    assert await asyncio.wait_for(worker, 10) is False
    assert len(lines) == 1
    assert lines[0].startswith("stopped halfway through a round")
    assert sorted(await undelivered(runtime)) == sorted(ids)  # rolled back, there for the next


class Busy:
    """A channel with ``left`` sends to make, one per round; ``drained`` is set after the last."""

    def __init__(self, left: int) -> None:
        self.left = left
        self.drained = asyncio.Event()

    async def fan_out(self, uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
        pass

    async def send_due(self, rt: Runtime) -> int:
        if not self.left:
            self.drained.set()
            return 0
        self.left -= 1
        return 1

    def channel(self) -> Channel:
        return Channel("busy", self.fan_out, self.send_due)


async def test_a_delivery_round_that_sent_something_is_followed_at_once(runtime: Runtime) -> None:
    busy, lines = Busy(3), []
    worker = asyncio.create_task(
        run_worker(
            runtime,
            interval=3600,
            once=False,
            delivery_interval=3600,  # only an idle round waits
            channels=[busy.channel()],
            echo=lines.append,
            warn=lines.append,
        )
    )
    await asyncio.wait_for(busy.drained.wait(), 10)  # four rounds back to back
    os.kill(os.getpid(), signal.SIGTERM)
    assert await asyncio.wait_for(worker, 10) is True
    assert lines == ["0 events delivered, sends attempted: busy 1"] * 3
