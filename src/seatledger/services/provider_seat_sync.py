"""Seat counts pushed to the provider that bills them (SPEC §7, ``billing`` mode), through the
outbox: a delivery channel, coalesced.

Seat counts here move without a ``PATCH``: members-mode growth and shrink (SPEC §5), a seat
assigned or revoked that resizes the pool. Every ``subscription.*`` event fanned out marks its
subscription's push as wanted (``ProviderQueue.want_push``); ``send_due`` then pushes each
wanted one whose seats differ from ``synced_seats`` (the count known to match Stripe's) with
``prorate`` (Stripe's ``create_prorations``: SPEC §3's default for members-mode changes),
reading the seats *now*, so a burst of changes is one update:

* at most one update per subscription per ``SEATLEDGER_STRIPE_SYNC_SECONDS`` (default 10): a
  push wanted sooner waits until then;
* at most ``HOURLY_LIMIT`` (200, Stripe's) per subscription per hour: beyond, it waits for the
  next hour's window.

A provider that does not answer leaves the push wanted, tried again after ``RETRY_AFTER``:
nothing is lost. What reconciliation and the webhook mirror took from Stripe is already synced
(they write ``synced_seats``), so it is not pushed back (push-back is reconciliation's, when
asked).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from seatledger.adapters.db.provider_billing import (
    SeatPushes,
    WaitingPush,
)
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import PaymentProviderUnavailable
from seatledger.domain.events import OutboxEvent
from seatledger.domain.provider_billing import ProviderRefused
from seatledger.services import provider_subscriptions
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.payments")

HOURLY_LIMIT = 200
WINDOW = timedelta(hours=1)
RETRY_AFTER = timedelta(seconds=60)
BATCH = 50


async def fan_out_many(uow: UnitOfWork, rt: Runtime, events: Sequence[OutboxEvent]) -> None:
    if rt.billing is None:
        return
    ids = sorted(
        {
            str(event.payload["id"])
            for event in events
            if event.type.startswith("subscription.") and isinstance(event.payload.get("id"), str)
        }
    )
    if ids:
        await uow.provider_queue.want_push(ids, rt.clock.now())


async def fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    await fan_out_many(uow, rt, [event])


def _not_before(push: WaitingPush, rt: Runtime, now: datetime) -> datetime | None:
    """When the limits let ``push`` go, if not now."""
    if push.last_pushed_at is not None:
        earliest = push.last_pushed_at + timedelta(seconds=rt.settings.stripe_sync_seconds)
        if earliest > now:
            return earliest
    in_window = push.window_start is not None and push.window_start + WINDOW > now
    if in_window and push.window_pushes >= HOURLY_LIMIT:
        assert push.window_start is not None
        return push.window_start + WINDOW
    return None


async def _push(rt: Runtime, pushes: SeatPushes, push: WaitingPush, now: datetime) -> None:
    assert rt.billing is not None
    key = f"seatledger-seats-{push.subscription_id}-{push.seats}-{int(now.timestamp())}"
    try:
        await provider_subscriptions.push_seats(
            rt,
            rt.billing,
            push.subscription_id,
            seats=push.seats,
            behavior="prorate",
            idempotency_key=key,
        )
    except (PaymentProviderUnavailable, ProviderRefused) as error:
        log.warning("seats of %s not pushed to Stripe: %s", push.subscription_id, error)
        await pushes.settle(push.subscription_id, {"push_after": now + RETRY_AFTER})
        return
    in_window = push.window_start is not None and push.window_start + WINDOW > now
    values: dict[str, Any] = {
        "push_after": None,
        "synced_seats": push.seats,
        "stripe_seats": push.seats,
        "last_pushed_at": now,
        "window_start": push.window_start if in_window else now,
        "window_pushes": push.window_pushes + 1 if in_window else 1,
    }
    await pushes.settle(push.subscription_id, values)
    async with rt.transaction() as uow:  # Stripe prorates the change itself
        await uow.pending_lines.drop_waiting(push.subscription_id)
        await uow.commit()


async def send_due(rt: Runtime) -> int:
    """Push what is wanted and allowed now; answers how many were looked at."""
    if rt.billing is None:
        return 0
    now = rt.clock.now()
    pushes = SeatPushes(rt.engine)
    due = await pushes.due(now, BATCH)
    for push in due:
        if push.seats == push.synced_seats:
            await pushes.settle(push.subscription_id, {"push_after": None})
            continue
        later = _not_before(push, rt, now)
        if later is not None:
            await pushes.settle(push.subscription_id, {"push_after": later})
            continue
        await _push(rt, pushes, push, now)
    return len(due)


CHANNEL = Channel("provider_seats", fan_out, send_due, fan_out_many)

__all__ = ["CHANNEL", "HOURLY_LIMIT", "send_due"]
