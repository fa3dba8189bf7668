"""A delivery channel: what the delivery loop (``seatledger.services.delivery``) does with
each outbox event, and how it sends what fell due.

* ``fan_out(uow, rt, event)`` runs inside the loop's transaction that marks the event
  delivered: it writes the channel's own rows (an email, one webhook delivery per endpoint) and
  nothing else, so an event is fanned out exactly once, or again after a crash before commit.
* ``send_due(rt)`` sends what is due (each row leased under ``SKIP LOCKED``, sent with no
  transaction open, its outcome recorded after) and answers how many it attempted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import OutboxEvent
from seatledger.services.runtime import Runtime

FanOut = Callable[[UnitOfWork, Runtime, OutboxEvent], Awaitable[None]]
SendDue = Callable[[Runtime], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Channel:
    name: str  # "emails", "webhooks"
    fan_out: FanOut
    send_due: SendDue


__all__ = ["Channel", "FanOut", "SendDue"]
