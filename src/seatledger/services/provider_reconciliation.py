"""Reconciliation with a provider that bills subscriptions (SPEC §7, ``billing`` mode):
``seatledger stripe reconcile`` and the worker every 15 minutes.

For every subscription the provider bills, its subscription is read from the provider and:

* canceled there (from the merchant's dashboard, or by the provider's dunning): canceled here
  now, as SPEC §3's cancel-now (seats revoked with their benefits);
* its items translated into ``stripe_seats`` (``domain.seat_drift``), then clamped:
  ``covered_seats = max(stripe_seats, holders)``. When ``covered_seats`` differs from the
  subscription's seats, the pool is resized to it (``subscription.updated``); when the clamp
  held (the provider shows fewer seats than the pool has holders),
  ``subscription.seats_drift_detected`` says so with both counts (once per drift: again only
  when Stripe's count moves), and with push-back
  (``SEATLEDGER_STRIPE_PUSH_BACK=1``) the covered count is pushed to the provider without
  proration;
* an item of a price seatledger never made (not in the price book): nothing is changed, the
  subscription is reported ``untranslatable`` for the merchant to look at.

A provider that does not answer leaves its subscription for the next round (``unavailable``).
Each subscription is its own transaction, taken under its row lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from seatledger.adapters.db.provider_billing import (
    LinkedSubscription,
    ProviderPriceBook,
    ProviderSubscriptions,
)
from seatledger.domain.errors import PaymentProviderUnavailable
from seatledger.domain.events import EventType
from seatledger.domain.provider_billing import ProviderSubscription, SubscriptionBilling
from seatledger.domain.seat_drift import Capacity, ReadItem, Untranslatable, drift, stripe_seats
from seatledger.pricing.recurring_items import quantities
from seatledger.services import cancellation
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions.standing import subscription_of

Action = Literal["resized", "clamped", "canceled", "untranslatable"]
PROVIDER = "stripe"


@dataclass(frozen=True, slots=True)
class Repair:
    subscription_id: str
    provider_id: str
    action: Action
    seats_before: int
    seats_after: int
    stripe_seats: int | None = None
    holders: int = 0
    pushed_back: bool = False
    detail: str = ""

    def line(self) -> str:
        head = f"{self.subscription_id} ({self.provider_id}): {self.action}"
        if self.action == "untranslatable":
            return f"{head}: {self.detail}; nothing changed"
        if self.action == "canceled":
            return f"{head} in Stripe; seats revoked"
        text = f"{head} {self.seats_before} → {self.seats_after} seats"
        text += f" (Stripe {self.stripe_seats}, holders {self.holders})"
        return text + (", pushed back to Stripe" if self.pushed_back else "")


@dataclass
class Reconciliation:
    checked: int = 0
    unavailable: int = 0
    repairs: list[Repair] = field(default_factory=list)

    def summary(self) -> str:
        repaired = sum(1 for r in self.repairs if r.action != "untranslatable")
        flagged = len(self.repairs) - repaired
        text = f"{self.checked} subscriptions checked, {repaired} repaired, {flagged} flagged"
        if self.unavailable:
            text += f", {self.unavailable} left for later (Stripe did not answer)"
        return text


async def reconcile(
    rt: Runtime, billing: SubscriptionBilling, *, push_back: bool = False
) -> Reconciliation:
    """Compare every subscription the provider bills with it, and repair drift."""
    links = ProviderSubscriptions(rt.engine, PROVIDER)
    done = Reconciliation()
    for link in await links.all():
        if link.status == "canceled":
            continue
        done.checked += 1
        try:
            remote = await billing.subscription(link.provider_subscription_id)
            repair = await reconcile_one(rt, billing, link, remote, push_back=push_back)
        except PaymentProviderUnavailable:
            done.unavailable += 1
            continue
        if repair is not None:
            done.repairs.append(repair)
    return done


async def read_items(rt: Runtime, remote: ProviderSubscription) -> list[ReadItem]:
    """The provider's items with the seatledger prices they were made for."""
    book = ProviderPriceBook(rt.engine, PROVIDER)
    items = []
    for item in remote.items:
        known = await book.role_of(item.price)
        if known is None:
            raise Untranslatable(item.price)
        async with rt.reading() as uow:
            price = await uow.catalog.price(known[0])
        assert price is not None  # the price book's foreign key
        items.append(ReadItem(known[1], price.seat_price, item.quantity))
    return items


async def reconcile_one(
    rt: Runtime,
    billing: SubscriptionBilling,
    link: LinkedSubscription,
    remote: ProviderSubscription,
    *,
    push_back: bool,
) -> Repair | None:
    links = ProviderSubscriptions(rt.engine, PROVIDER)
    if remote.status in ("canceled", "incomplete_expired"):
        return await _mirror_cancel(rt, link, links)
    try:
        items = await read_items(rt, remote)
    except Untranslatable as unknown:
        seats = await _seats_of(rt, link.subscription_id)
        detail = f"Stripe price {unknown.provider_price} is not one seatledger made"
        return Repair(
            link.subscription_id, remote.id, "untranslatable", seats, seats, detail=detail
        )
    paid_for = stripe_seats(items)
    repair, capacity = await _apply_capacity(rt, link, remote, paid_for)
    now = int(rt.clock.now().timestamp())
    # The covered count is taken from Stripe: nothing for the seat push to send back.
    synced = None if capacity is None else capacity.covered_seats
    await links.record(link.subscription_id, remote.status, paid_for, now, synced=synced)
    if capacity is None or not (capacity.clamped and push_back):
        return repair
    # Pushed whenever the drift is there, new or not: a push-back that failed is tried again.
    await _push_back(rt, billing, link, capacity.covered_seats, now)
    if repair is None:
        seats = capacity.covered_seats
        repair = Repair(link.subscription_id, remote.id, "clamped", seats, seats, paid_for)
    return replace(repair, holders=capacity.holders, pushed_back=True)


async def _seats_of(rt: Runtime, subscription_id: str) -> int:
    async with rt.reading() as uow:
        row = await subscription_of(uow, subscription_id, None, lock=False)
    return int(row.seats)


async def _mirror_cancel(
    rt: Runtime, link: LinkedSubscription, links: ProviderSubscriptions
) -> Repair | None:
    before = await _seats_of(rt, link.subscription_id)
    async with rt.transaction() as uow:
        await uow.pending_lines.drop_waiting(link.subscription_id)
        await uow.commit()
    subscription = await cancellation.cancel_subscription(
        rt, link.subscription_id, at_period_end=False
    )
    now = int(rt.clock.now().timestamp())
    await links.record(link.subscription_id, "canceled", link.stripe_seats, now)
    if subscription.canceled_at is None:
        return None
    return Repair(
        link.subscription_id, link.provider_subscription_id, "canceled", before, subscription.seats
    )


async def _apply_capacity(
    rt: Runtime, link: LinkedSubscription, remote: ProviderSubscription, paid_for: int
) -> tuple[Repair | None, Capacity | None]:
    """The pool resized to the covered count, under the subscription's lock. A drift is
    reported once: when the clamp moves the seats, or Stripe's count moved since last read."""
    async with rt.transaction() as uow:
        row = await subscription_of(uow, link.subscription_id, None, lock=True)
        if row.status == "canceled":
            return None, None
        capacity = Capacity(paid_for, int(row.assigned_seats))
        covered = capacity.covered_seats
        new_drift = capacity.clamped and (covered != row.seats or paid_for != link.stripe_seats)
        if covered == row.seats and not new_drift:
            return None, capacity
        if covered != row.seats:
            await uow.pools.resize(row.id, covered)
        subscription = await subscription_of(uow, row.id, None, lock=False)
        if covered != row.seats:
            uow.emit(EventType.SUBSCRIPTION_UPDATED, subscription)
        if new_drift:
            uow.emit(EventType.SUBSCRIPTION_SEATS_DRIFT_DETECTED, drift(subscription, capacity))
        await uow.commit()
    action: Action = "clamped" if capacity.clamped else "resized"
    repair = Repair(row.id, remote.id, action, int(row.seats), covered, paid_for, capacity.holders)
    return repair, capacity


async def _push_back(
    rt: Runtime, billing: SubscriptionBilling, link: LinkedSubscription, seats: int, now: int
) -> None:
    """The covered count pushed to the provider, without proration (the merchant's customer
    is not billed for the difference the dashboard edit made)."""
    async with rt.reading() as uow:
        row = await subscription_of(uow, link.subscription_id, None, lock=False)
        price = await uow.catalog.price(row.price_id)
    assert price is not None
    name = f"seatledger price {price.id}"
    prices = await billing.ensure_prices(price.id, price.seat_price, name)
    await billing.push_quantities(
        link.provider_subscription_id,
        prices=prices,
        quantities=quantities(price.seat_price, seats),
        proration="none",
        idempotency_key=f"seatledger-push-back-{link.subscription_id}-{seats}-{now}",
    )


__all__ = ["Reconciliation", "Repair", "reconcile", "reconcile_one"]
