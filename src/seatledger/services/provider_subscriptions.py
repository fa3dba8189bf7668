"""A subscription billed by the provider (SPEC §7, ``billing`` mode): started there, and its
seat count pushed there.

``start_billing`` makes the provider's subscription for a seatledger subscription, once its
customer's card is saved at the provider: the seat price's provider prices (made on first
need), items at the quantities its seats need, the link kept (``provider_subscriptions``).

``push_seats`` pushes the subscription's seats as item quantities with the provider's
proration for SPEC §3's behaviour (``domain.provider_billing.proration_for``). Under ``invoice``
the provider applies the change only once its invoice is paid: the answer says whether it did
(``Pushed.applied``), and seatledger's seat count follows only what the provider applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.adapters.db.provider_billing import ProviderSubscriptions
from seatledger.domain.catalog import Price
from seatledger.domain.errors import NotFound
from seatledger.domain.provider_billing import (
    ProviderSubscription,
    SubscriptionBilling,
    proration_for,
)
from seatledger.pricing.recurring_items import quantities
from seatledger.services.runtime import Runtime

PROVIDER = "stripe"


async def _price_and_seats(rt: Runtime, subscription_id: str) -> tuple[Price, int]:
    async with rt.reading() as uow:
        found = await uow.subscriptions.find(subscription_id, scope_company_id=None, lock=False)
        if found is None:
            raise NotFound("subscription")
        price = await uow.catalog.price(found.price_id)
    assert price is not None  # the subscription's foreign key
    return price, found.seats


async def start_billing(
    rt: Runtime,
    billing: SubscriptionBilling,
    subscription_id: str,
    *,
    customer: str,
    anchor: datetime | None = None,
    payment_method: str | None = None,
) -> ProviderSubscription:
    """The provider's subscription for ``subscription_id``, billed to ``customer`` (the
    provider's customer id); made once (the subscription id is its idempotency key). With
    ``anchor`` the provider bills from then (the period paid here ends then)."""
    price, seats = await _price_and_seats(rt, subscription_id)
    prices = await billing.ensure_prices(price.id, price.seat_price, f"seatledger {price.id}")
    remote = await billing.start_subscription(
        customer=customer,
        prices=prices,
        quantities=quantities(price.seat_price, seats),
        subscription_id=subscription_id,
        anchor=anchor,
        payment_method=payment_method,
    )
    await ProviderSubscriptions(rt.engine, PROVIDER).link(
        subscription_id, remote.id, remote.status, seats
    )
    return remote


@dataclass(frozen=True, slots=True)
class Pushed:
    remote: ProviderSubscription
    applied: bool  # False: the provider holds the change until its invoice is paid


async def push_seats(
    rt: Runtime,
    billing: SubscriptionBilling,
    subscription_id: str,
    *,
    seats: int,
    behavior: str,
    idempotency_key: str,
) -> Pushed:
    """``seats`` pushed to the provider's subscription with ``behavior``'s proration."""
    link = await _link(rt, subscription_id)
    price, _ = await _price_and_seats(rt, subscription_id)
    prices = await billing.ensure_prices(price.id, price.seat_price, f"seatledger {price.id}")
    remote = await billing.push_quantities(
        link,
        prices=prices,
        quantities=quantities(price.seat_price, seats),
        proration=proration_for(behavior),
        idempotency_key=idempotency_key,
    )
    return Pushed(remote, not remote.change_pending)


async def _link(rt: Runtime, subscription_id: str) -> str:
    linked = await ProviderSubscriptions(rt.engine, PROVIDER).of(subscription_id)
    if linked is None:
        raise NotFound("subscription")
    return linked.provider_subscription_id


async def is_billed(rt: Runtime, subscription_id: str) -> bool:
    """Whether the provider bills ``subscription_id`` (``billing`` mode)."""
    if rt.billing is None:
        return False
    return await ProviderSubscriptions(rt.engine, PROVIDER).of(subscription_id) is not None


async def cancel_billed(rt: Runtime, subscription_id: str, *, at_period_end: bool) -> None:
    """A cancellation asked here, made in the provider first (it bills the subscription);
    the prorations waiting here are the provider's to bill, so none is left for a final
    invoice of seatledger's. Cancelling now, the provider invoices the prorations it holds at
    once and refunds nothing of the current period (SPEC §3)."""
    assert rt.billing is not None
    provider_id = await _link(rt, subscription_id)
    if at_period_end:
        await rt.billing.cancel_at_period_end(provider_id, True)
    else:
        await rt.billing.cancel_subscription(provider_id)
    async with rt.transaction() as uow:
        await uow.pending_lines.drop_waiting(subscription_id)
        await uow.commit()


async def undo_cancel_billed(rt: Runtime, subscription_id: str) -> None:
    """A cancellation at period end undone, in the provider first."""
    assert rt.billing is not None
    await rt.billing.cancel_at_period_end(await _link(rt, subscription_id), False)


__all__ = [
    "Pushed",
    "cancel_billed",
    "is_billed",
    "push_seats",
    "start_billing",
    "undo_cancel_billed",
]
