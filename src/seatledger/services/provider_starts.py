"""The provider's subscription started for a checkout completed in ``billing`` mode (SPEC §7),
through the outbox: a delivery channel.

    checkout completed ──(same transaction)──▶ a start wanted (``ProviderQueue.want_start``)
    delivery round ──send_due──▶ the provider's subscription made, linked, mirrored here

The checkout takes the first payment as it does in ``payments`` mode (its card saved on the
company's provider customer; a decline is a 402 and leaves it open), so the first period is
paid here. The provider's subscription is then made with the price's provider prices at
quantities for the seats, the saved card as its default, and its billing cycle anchored at the
end of that paid period with no proration: the provider charges nothing now and owns every
invoice from the first renewal on.

Made after commit, never inside a transaction; ``start_billing`` uses the subscription id as
its idempotency key and links once, so a crash between the checkout's commit and the
provider's answer (or after it) finishes on the next round without a second subscription. A
provider that does not answer leaves the start wanted, tried again after ``RETRY_AFTER``; one
that refuses the request is logged and not tried again (its row keeps the error). Two
delivery loops taking the same start at once send the same request under the same key (the
anchor is pinned by the first): the provider answers both with one subscription, linked once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from seatledger.adapters.db.provider_billing import (
    ProviderStarts,
    ProviderSubscriptions,
    WaitingStart,
)
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import NotFound, PaymentProviderUnavailable
from seatledger.domain.events import OutboxEvent
from seatledger.domain.payments import ProviderCustomers
from seatledger.domain.provider_billing import ProviderRefused
from seatledger.domain.purchase import Subscription
from seatledger.pricing import add_intervals
from seatledger.services import provider_mirror, provider_subscriptions
from seatledger.services.catalog.prices import get_price
from seatledger.services.channels import Channel
from seatledger.services.purchases import get_subscription
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.payments")

PROVIDER = provider_subscriptions.PROVIDER
RETRY_AFTER = timedelta(seconds=60)
# Less paid time than this left: the provider bills a whole first period at once.
MINIMUM_PAID_TIME = timedelta(minutes=1)
BATCH = 50


async def wanted(uow: UnitOfWork, rt: Runtime, subscription_id: str) -> None:
    """In the transaction that creates ``subscription_id``: when the provider bills
    subscriptions, its subscription is to be made once this commits."""
    if rt.billing is not None:
        await uow.provider_queue.want_start(subscription_id, PROVIDER, rt.clock.now())


async def _fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    """Nothing: the start is wanted by the checkout's own transaction (``wanted``)."""


async def _fan_out_many(uow: UnitOfWork, rt: Runtime, events: Sequence[OutboxEvent]) -> None:
    """Nothing, as ``_fan_out``."""


async def _customer(rt: Runtime, key: str) -> str:
    if not isinstance(rt.gateway, ProviderCustomers):
        raise ProviderRefused(f"the {rt.gateway.name} gateway keeps no provider customers")
    return await rt.gateway.customer_for(key)


async def _anchor(
    rt: Runtime, starts: ProviderStarts, start: WaitingStart, subscription: Subscription
) -> datetime | None:
    """Where the provider's billing cycle starts: when the period paid here ends, counted on
    the provider's clock — the wall clock, from which the sandbox's may differ — and fixed at
    the first attempt, so a retry repeats the same request."""
    if start.anchor is not None:
        return start.anchor
    paid_for = subscription.current_period_end - rt.clock.now()
    interval = (await get_price(rt, subscription.price_id)).seat_price.interval
    assert interval is not None  # a subscription's price is recurring
    if paid_for <= MINIMUM_PAID_TIME:
        return None  # the paid period is over: the provider bills a first period now
    wall = datetime.now(UTC).replace(microsecond=0)
    # Months differ in length: never past the provider's first natural period end.
    anchor = min(wall + paid_for, add_intervals(wall, interval, 1))
    return await starts.pin_anchor(start.subscription_id, anchor)


async def start_one(rt: Runtime, starts: ProviderStarts, start: WaitingStart) -> None:
    """Make, link and mirror the provider's subscription of ``start`` (once)."""
    assert rt.billing is not None
    links = ProviderSubscriptions(rt.engine, PROVIDER)
    subscription_id = start.subscription_id
    if await links.of(subscription_id) is None:
        subscription = await get_subscription(rt, subscription_id)
        if subscription.status == "canceled":
            return  # canceled before it reached the provider: nothing to bill
        customer = await _customer(rt, subscription.customer)
        await provider_subscriptions.start_billing(
            rt,
            rt.billing,
            subscription_id,
            customer=customer,
            anchor=await _anchor(rt, starts, start, subscription),
            payment_method=subscription.payment_method or None,
        )
    link = await links.of(subscription_id)
    assert link is not None
    remote = await rt.billing.subscription(link.provider_subscription_id)
    await provider_mirror.mirror_standing(rt, subscription_id, remote)


async def _send(rt: Runtime, starts: ProviderStarts, start: WaitingStart) -> None:
    now = rt.clock.now()
    try:
        await start_one(rt, starts, start)
    except PaymentProviderUnavailable as error:
        log.warning("subscription %s not started in Stripe: %s", start.subscription_id, error)
        await starts.retry(
            start.subscription_id, now + RETRY_AFTER, f"{type(error).__name__}: {error}"
        )
        return
    except (ProviderRefused, NotFound) as error:
        log.error("Stripe refused to start subscription %s: %s", start.subscription_id, error)
        await starts.give_up(start.subscription_id, f"{type(error).__name__}: {error}")
        return
    await starts.started(start.subscription_id, now)


async def send_due(rt: Runtime) -> int:
    """Start what is wanted now; answers how many were looked at."""
    if rt.billing is None:
        return 0
    starts = ProviderStarts(rt.engine, PROVIDER)
    due = await starts.due(rt.clock.now(), BATCH)
    for start in due:
        await _send(rt, starts, start)
    return len(due)


CHANNEL = Channel("provider_starts", _fan_out, send_due, _fan_out_many)

__all__ = ["CHANNEL", "send_due", "start_one", "wanted"]
