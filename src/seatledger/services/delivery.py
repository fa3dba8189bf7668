"""The delivery loop: every outbox event handed to each channel once, then what fell due sent.

    outbox row (delivered_at NULL) ──dispatch──▶ channel rows (emails, webhook deliveries)
                                                 and delivered_at set, in one transaction
    channel rows due ──send_due──▶ sent, each channel on its own (SPEC §10)

* ``dispatch`` takes a batch of undelivered events, oldest first, in one transaction: on
  PostgreSQL under ``FOR UPDATE SKIP LOCKED``, so loops in several processes share the backlog
  and never take the same event at once; on SQLite the write transaction (``BEGIN IMMEDIATE``)
  serialises them. The batch is fanned out to every channel at once (``Channel.fan_out_all``),
  then marked delivered; the batch commits as one. A crash before the commit leaves every event
  of the batch undelivered: it is fanned out again (at least once, never lost), and receivers
  drop duplicates by event id.
* A channel that fails on the batch: the batch's fan-out is rolled back to its savepoint and
  done again one event at a time. A channel that fails on an event: that event's fan-out (to
  every channel) is rolled back to its savepoint, the event stays undelivered and a warning is
  logged; the rest of the batch is delivered. The round walks on past it (``after``), so a
  failing event never holds back the ones behind it; the next round tries it again, and so on
  until the channel takes it.
* ``run_round`` dispatches batch after batch until the backlog is walked through (at most
  ``MAX_BATCHES`` batches, so sending is never starved), then lets every channel send what is
  due. A channel whose ``send_due`` fails is logged and skipped; the others still send.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import OutboxEvent
from seatledger.observability import logs, metrics
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.delivery")
jobs_log = logs.get_logger("seatledger.jobs")

BATCH_SIZE = 100
MAX_BATCHES = 20  # per round: 2,000 events, then the channels send what is due
INTERVAL = 1.0  # seconds between rounds of a running loop


@dataclass(frozen=True, slots=True)
class Batch:
    """What one ``dispatch`` did: events taken, fanned out, and the last outbox id it saw."""

    taken: int = 0
    delivered: int = 0
    last_id: int = 0

    @property
    def failed(self) -> int:
        return self.taken - self.delivered


@dataclass(frozen=True, slots=True)
class DeliveryRound:
    """What one round did: events fanned out, events left for the next round after a channel
    failed on them, and what the channels attempted to send (by channel name)."""

    delivered: int = 0
    failed: int = 0
    sent: tuple[tuple[str, int], ...] = ()

    @property
    def attempted(self) -> int:
        return sum(count for _, count in self.sent)

    @property
    def nothing_done(self) -> bool:
        return not (self.delivered or self.failed or self.attempted)

    @property
    def busy(self) -> bool:
        """Whether the round moved work along (fanned out or sent): the next round then starts
        at once, since more may be waiting. Events a channel failed on do not count, so a
        failing channel is retried at the loop's pace, not in a tight loop."""
        return bool(self.delivered or self.attempted)


async def _fan_out(
    uow: UnitOfWork, rt: Runtime, channels: Sequence[Channel], event: OutboxEvent
) -> bool:
    """Every channel's fan-out of ``event`` inside a savepoint: all of them, or (when one
    fails) none, the event left for the next round."""
    savepoint = await uow.connection.begin_nested()
    channel = None
    try:
        for channel in channels:
            await channel.fan_out(uow, rt, event)
    except Exception:
        if savepoint.is_active:
            await savepoint.rollback()
        name = channel.name if channel is not None else "?"
        metrics.delivery_failed(name)
        log.warning(
            "channel %s failed on event %s (%s); it stays in the outbox for the next round",
            name,
            event.id,
            event.type,
            exc_info=True,
        )
        return False
    await savepoint.commit()
    return True


async def _fan_out_batch(
    uow: UnitOfWork, rt: Runtime, channels: Sequence[Channel], events: Sequence[OutboxEvent]
) -> bool:
    """Every channel's fan-out of the whole batch inside one savepoint; False (nothing kept)
    when a channel fails on it."""
    savepoint = await uow.connection.begin_nested()
    try:
        for channel in channels:
            await channel.fan_out_all(uow, rt, events)
    except Exception:
        if savepoint.is_active:
            await savepoint.rollback()
        log.debug("a channel failed on a batch; its events are fanned out one by one")
        return False
    await savepoint.commit()
    return True


async def dispatch_batch(
    rt: Runtime, channels: Sequence[Channel], *, limit: int = BATCH_SIZE, after: int = 0
) -> Batch:
    """One transaction: up to ``limit`` undelivered events with an outbox id above ``after``,
    oldest first, fanned out and marked delivered (module docstring)."""
    async with rt.transaction() as uow:
        taken = await uow.outbox.undelivered(after, limit)
        if not taken:
            return Batch(last_id=after)
        events = [event for _, event in taken]
        if await _fan_out_batch(uow, rt, channels, events):
            delivered = [outbox_id for outbox_id, _ in taken]
        else:  # one by one, so that the events a channel fails on hold back no other
            delivered = [
                outbox_id for outbox_id, event in taken if await _fan_out(uow, rt, channels, event)
            ]
        await uow.outbox.mark_delivered(delivered, rt.clock.now())
        await uow.commit()
    return Batch(taken=len(taken), delivered=len(delivered), last_id=taken[-1][0])


async def dispatch(rt: Runtime, channels: Sequence[Channel], *, limit: int = BATCH_SIZE) -> int:
    """Fan out up to ``limit`` undelivered events, oldest first, in one transaction; answers
    how many were delivered (the others, if a channel failed on them, wait for the next
    round)."""
    return (await dispatch_batch(rt, channels, limit=limit)).delivered


async def _send_due(rt: Runtime, channel: Channel) -> int:
    try:
        return await channel.send_due(rt)
    except Exception:
        log.warning("channel %s failed to send what is due", channel.name, exc_info=True)
        return 0


async def run_round(
    rt: Runtime,
    channels: Sequence[Channel],
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> DeliveryRound:
    """Dispatch until the backlog is walked through (bounded), then send what is due. Each
    round is a ``delivery`` job: counted and timed; one that did something is logged."""
    started = time.perf_counter()
    try:
        done = await _round(rt, channels, batch_size, max_batches)
    except Exception:
        metrics.job_done("delivery", ok=False, seconds=time.perf_counter() - started)
        raise
    seconds = time.perf_counter() - started
    metrics.job_done("delivery", ok=True, seconds=seconds)
    if not done.nothing_done:
        jobs_log.info(
            "job",
            job="delivery",
            summary=describe(done),
            delivered=done.delivered,
            left=done.failed,
            sent=dict(done.sent),
            duration_ms=round(seconds * 1000, 2),
        )
    return done


async def _round(
    rt: Runtime, channels: Sequence[Channel], batch_size: int, max_batches: int
) -> DeliveryRound:
    delivered = failed = 0
    after = 0
    for _ in range(max_batches):
        batch = await dispatch_batch(rt, channels, limit=batch_size, after=after)
        delivered += batch.delivered
        failed += batch.failed
        after = batch.last_id
        if batch.taken < batch_size:
            break
    sent = tuple([(channel.name, await _send_due(rt, channel)) for channel in channels])
    return DeliveryRound(delivered=delivered, failed=failed, sent=sent)


async def deliver_until(
    rt: Runtime, channels: Sequence[Channel], stop: asyncio.Event, *, interval: float = INTERVAL
) -> None:
    """Round after round until ``stop`` is set (the round under way is finished first): the
    next at once after a round that moved work along, else after ``interval`` seconds. A round
    that fails is logged; the next one starts over, and nothing it had taken is lost: its
    transaction was rolled back.

    ``seatledger serve`` runs this in each server process, ``seatledger worker`` its own way."""
    while not stop.is_set():
        try:
            done = await run_round(rt, channels)
        except Exception:
            log.warning("delivery round failed; the next one tries again", exc_info=True)
        else:
            if done.busy:
                await asyncio.sleep(0)  # let the server's requests in between rounds
                continue
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


def describe(done: DeliveryRound) -> str:
    """One line: what a round delivered (``3 events delivered, 1 left for the next round,
    sends attempted: emails 2``)."""
    line = f"{done.delivered} {'event' if done.delivered == 1 else 'events'} delivered"
    if done.failed:
        line += f", {done.failed} left for the next round"
    if done.attempted:
        line += ", sends attempted: " + ", ".join(
            f"{name} {count}" for name, count in done.sent if count
        )
    return line


__all__ = [
    "BATCH_SIZE",
    "INTERVAL",
    "MAX_BATCHES",
    "Batch",
    "DeliveryRound",
    "deliver_until",
    "describe",
    "dispatch",
    "dispatch_batch",
    "run_round",
]
