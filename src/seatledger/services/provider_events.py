"""The payment provider's events (Stripe's webhooks): kept as they arrive, applied later.

    POST /v1/stripe/webhooks ──receive──▶ verified, kept once per event id (``provider_events``),
                                          answered at once
    delivery loop ──CHANNEL.send_due──▶ each kept event: the provider reads the object again
                                          and answers a neutral fact (``HostedPayments.interpret``)
                                          ──APPLIERS[type(fact)]──▶ the use case that applies it

Applying is safe whatever the order or repetition: the fact is the object's *current* state
(read again, never the event's snapshot), and every applier is idempotent (a checkout completes
once, an invoice is paid once). A failure (the provider unreachable, a bug) leaves the event
pending: it is tried again after ``RETRY_DELAYS`` (by the wall clock: the provider's events are
real time, even in the sandbox), and after the last one it is ``failed``, with its error kept.
An event leased by one loop (``LEASE``) is not taken by another meanwhile.

A new kind of fact (the ``billing`` mode's) is one more entry in ``APPLIERS``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from seatledger.adapters.db.provider_events import KeptEvent
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.events import OutboxEvent
from seatledger.domain.payments import HostedPagePaid, HostedPayments, PaymentSettled
from seatledger.domain.provider_billing import ProviderInvoiceChanged, ProviderSubscriptionChanged
from seatledger.services.channels import Channel
from seatledger.services.hosted_checkout import complete_paid_page, hosted_payments
from seatledger.services.payment_settlement import settle_payment
from seatledger.services.provider_invoice_mirror import mirror_invoice
from seatledger.services.provider_mirror import mirror_subscription
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.payments")

BATCH = 20
LEASE = timedelta(minutes=2)
RETRY_DELAYS = tuple(
    timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 3600 * 3, 3600 * 6, 3600 * 12)
)

Applier = Callable[[Runtime, Any], Awaitable[None]]
APPLIERS: dict[type, Applier] = {
    HostedPagePaid: complete_paid_page,
    PaymentSettled: settle_payment,
    ProviderSubscriptionChanged: mirror_subscription,
    ProviderInvoiceChanged: mirror_invoice,
}


def _wall_clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def receive(rt: Runtime, payload: bytes, signature: str | None) -> bool:
    """Verify an event the provider sent and keep it (once per id) for the delivery loop.
    Answers whether it was new. ``InvalidProviderEvent`` (nothing kept) when it is forged,
    stale, unsigned or malformed; ``NotFound`` when this provider sends none."""
    provider = hosted_payments(rt)
    event = provider.verify_event(payload, signature)
    async with rt.transaction() as uow:
        new = await uow.provider_inbox.keep(rt.gateway.name, event, _wall_clock())
        await uow.commit()
    return new


async def _apply(rt: Runtime, provider: HostedPayments, kept: KeptEvent) -> str | None:
    """Apply one event; answers the error that kept it from being applied, if any."""
    try:
        fact = await provider.interpret(kept.event)
        if fact is not None:
            applier = APPLIERS.get(type(fact))
            if applier is None:
                return f"no applier for {type(fact).__name__}"
            await applier(rt, fact)
    except Exception as error:
        log.warning("provider event %s (%s) not applied", kept.event.id, kept.event.type,
                    exc_info=True)  # fmt: skip
        return f"{type(error).__name__}: {error}"
    return None


async def process_due(rt: Runtime, *, now: datetime | None = None) -> int:
    """Apply the provider events due at ``now`` (the wall clock); answers how many were tried."""
    if not isinstance(rt.gateway, HostedPayments):
        return 0
    provider = rt.gateway
    now = now or _wall_clock()
    async with rt.transaction() as uow:
        due = await uow.provider_inbox.take_due(now, now + LEASE, BATCH)
        await uow.commit()
    if not due:
        return 0
    applied = []
    for kept in due:
        error = await _apply(rt, provider, kept)
        if error is None:
            applied.append(kept.event.id)
            continue
        attempts = kept.attempts + 1
        when = now + RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else None
        async with rt.transaction() as uow:
            await uow.provider_inbox.retry_at(kept.event.id, attempts, when, error)
            await uow.commit()
    async with rt.transaction() as uow:
        await uow.provider_inbox.done(applied, _wall_clock())
        await uow.commit()
    return len(due)


async def _no_fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    """The engine's own events are not this channel's business."""


CHANNEL = Channel("provider_events", _no_fan_out, process_due)

__all__ = ["APPLIERS", "CHANNEL", "process_due", "receive"]
