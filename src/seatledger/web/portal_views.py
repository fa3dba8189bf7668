"""What the manager's pages show of a subscription or an order: its product, its price, its
pool's counts and where its page is. Read through the services, in the caller's company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.domain.catalog import Price, Product
from seatledger.domain.purchase import Order, PendingChange, Subscription
from seatledger.services import catalog
from seatledger.services.runtime import Runtime

# Why an invoice exists, as its pages say it.
REASONS = {
    "subscription_create": "First period",
    "subscription_cycle": "Renewal",
    "subscription_update": "Subscription change",
    "subscription_cancel": "Final invoice",
    "order": "Order",
}


@dataclass(frozen=True, slots=True)
class Offer:
    """A price as the pages name it: its product and its terms."""

    price: Price
    product: Product

    @property
    def interval(self) -> str:
        interval = self.price.seat_price.interval
        return {"month": "Monthly", "year": "Yearly"}.get(interval or "", "One-time")

    @property
    def name(self) -> str:
        return f"{self.product.name} ({self.interval.lower()})"


class Offers:
    """Prices and their products, each read once per page."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._offers: dict[str, Offer] = {}
        self._products: dict[str, Product] = {}

    async def of(self, price_id: str) -> Offer:
        if price_id not in self._offers:
            price = await catalog.get_price(self._rt, price_id)
            if price.product_id not in self._products:
                self._products[price.product_id] = await catalog.get_product(
                    self._rt, price.product_id
                )
            self._offers[price_id] = Offer(price, self._products[price.product_id])
        return self._offers[price_id]


@dataclass(frozen=True, slots=True)
class PoolView:
    """One subscription or order with its pool, as the manager's pages list it."""

    kind: str  # "subscription" | "order"
    id: str
    offer: Offer
    status: str
    seats: int
    assigned_seats: int
    available_seats: int
    href: str
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    pending_change: PendingChange | None = None
    payment_method: str | None = None
    next_payment_attempt_at: datetime | None = None  # past due: when payment is tried again
    amount: int | None = None
    currency: str = ""
    trial_end: datetime | None = None  # a subscription bought with a free trial

    @property
    def active(self) -> bool:
        """Seat-count and price changes are possible (SPEC §3: not once cancelling)."""
        return self.kind == "subscription" and self.status != "canceled"


def subscription_href(subscription_id: str) -> str:
    return f"/portal/subscriptions/{subscription_id}"


def order_href(order_id: str) -> str:
    return f"/portal/orders/{order_id}"


async def subscription_view(offers: Offers, subscription: Subscription) -> PoolView:
    offer = await offers.of(subscription.price_id)
    return PoolView(
        kind="subscription",
        id=subscription.id,
        offer=offer,
        status=subscription.status,
        seats=subscription.seats,
        assigned_seats=subscription.assigned_seats,
        available_seats=subscription.available_seats,
        href=subscription_href(subscription.id),
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        pending_change=subscription.pending_change,
        payment_method=subscription.payment_method,
        next_payment_attempt_at=subscription.next_payment_attempt_at,
        currency=offer.price.seat_price.currency,
        trial_end=subscription.trial_end,
    )


async def order_view(offers: Offers, order: Order) -> PoolView:
    return PoolView(
        kind="order",
        id=order.id,
        offer=await offers.of(order.price_id),
        status=order.status,
        seats=order.seats,
        assigned_seats=order.assigned_seats,
        available_seats=order.available_seats,
        href=order_href(order.id),
        amount=order.amount,
        currency=order.currency,
    )


__all__ = [
    "REASONS",
    "Offer",
    "Offers",
    "PoolView",
    "order_href",
    "order_view",
    "subscription_href",
    "subscription_view",
]
