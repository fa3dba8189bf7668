"""A delivery channel: what the delivery loop (``seatledger.services.delivery``) does with
each outbox event, and how it sends what fell due.

* ``fan_out(uow, rt, event)`` runs inside the loop's transaction that marks the event
  delivered: it writes the channel's own rows (an email, one webhook delivery per endpoint) and
  nothing else, so an event is fanned out exactly once, or again after a crash before commit.
* ``fan_out_many(uow, rt, events)``, when a channel has it, does the same for a batch of
  events at once, in fewer statements; the loop falls back to ``fan_out`` one event at a time
  when it fails, so that one bad event holds back no other.
* ``send_due(rt)`` sends what is due (each row leased under ``SKIP LOCKED``, sent with no
  transaction open, its outcome recorded after) and answers how many it attempted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import OutboxEvent
from seatledger.services.runtime import Runtime

FanOut = Callable[[UnitOfWork, Runtime, OutboxEvent], Awaitable[None]]
FanOutMany = Callable[[UnitOfWork, Runtime, Sequence[OutboxEvent]], Awaitable[None]]
SendDue = Callable[[Runtime], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Channel:
    name: str  # "emails", "webhooks"
    fan_out: FanOut
    send_due: SendDue
    fan_out_many: FanOutMany | None = None

    async def fan_out_all(
        self, uow: UnitOfWork, rt: Runtime, events: Sequence[OutboxEvent]
    ) -> None:
        """``events`` fanned out: by ``fan_out_many`` if the channel has it, else one by one."""
        if self.fan_out_many is not None:
            await self.fan_out_many(uow, rt, events)
            return
        for event in events:
            await self.fan_out(uow, rt, event)


__all__ = ["Channel", "FanOut", "FanOutMany", "SendDue"]
