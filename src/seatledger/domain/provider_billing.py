"""The port of a provider that bills subscriptions itself (Stripe Billing, SPEC §7 ``billing``
mode), in neutral data.

The provider owns the subscription, its invoices and its proration; seatledger keeps the seat
truth and pushes seat counts to it. A seat price is kept at the provider as at most two prices
(``ProviderPrices``: a flat base price and a tiered seats price, ``pricing.recurring_items``);
a subscription is read back as ``ProviderSubscription``: its status, period and items.

``Proration`` is how a quantity change is billed at the provider, mapped from SPEC §3's
behaviours (``proration_for``):

=============  ==================================================================
seatledger     provider
=============  ==================================================================
``invoice``    invoice the proration now, and apply the change only once it is paid
``prorate``    proration waits for the next invoice
``none``       no proration (reconciliation's push-back; ``next_period`` at renewal)
=============  ==================================================================

Errors: ``PaymentProviderUnavailable`` when the provider cannot answer now (retried later);
``ProviderRefused`` when it refused the request itself (a bug or a stale object: not retried).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from seatledger.pricing.price import SeatPrice
from seatledger.pricing.recurring_items import ItemQuantities

Proration = Literal["invoice", "prorate", "none"]
ProviderStatus = Literal[
    "active",
    "past_due",
    "unpaid",
    "canceled",
    "incomplete",
    "incomplete_expired",
    "trialing",
    "paused",
]


def proration_for(behavior: str) -> Proration:
    """SPEC §3's ``proration_behavior`` as the provider bills it; ``next_period`` changes are
    pushed at renewal, without proration."""
    if behavior == "invoice":
        return "invoice"
    if behavior == "prorate":
        return "prorate"
    return "none"


@dataclass(frozen=True, slots=True)
class ProviderPrices:
    """A seat price's prices at the provider: the base price (None without a base item) and
    the seats price."""

    base: str | None
    seats: str


@dataclass(frozen=True, slots=True)
class ProviderItem:
    id: str
    price: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ProviderSubscription:
    id: str
    status: ProviderStatus
    cancel_at_period_end: bool
    period_start: datetime | None
    period_end: datetime | None
    items: tuple[ProviderItem, ...]
    # A change the provider holds until its invoice is paid (``invoice`` behaviour).
    change_pending: bool = False

    def item_of(self, price: str) -> ProviderItem | None:
        return next((item for item in self.items if item.price == price), None)


@runtime_checkable
class SubscriptionBilling(Protocol):
    async def ensure_prices(self, price_id: str, price: SeatPrice, name: str) -> ProviderPrices:
        """The provider's prices for seatledger's price ``price_id``: made on first need, then
        kept."""
        ...

    async def start_subscription(
        self,
        *,
        customer: str,
        prices: ProviderPrices,
        quantities: ItemQuantities,
        subscription_id: str,
        anchor: datetime | None = None,
        payment_method: str | None = None,
    ) -> ProviderSubscription:
        """A subscription for seatledger's ``subscription_id`` (its idempotency key), billed to
        the customer's saved card (``payment_method`` when given). ``anchor`` (on the
        provider's clock): the first period was paid here until then; the provider bills from
        then on, with nothing for the time before."""
        ...

    async def subscription(self, provider_id: str) -> ProviderSubscription: ...

    async def push_quantities(
        self,
        provider_id: str,
        *,
        prices: ProviderPrices,
        quantities: ItemQuantities,
        proration: Proration,
        idempotency_key: str,
    ) -> ProviderSubscription:
        """The items set to ``quantities``; with ``invoice`` the change waits for its payment
        (``change_pending``) when the payment fails."""
        ...

    async def cancel_subscription(self, provider_id: str) -> ProviderSubscription: ...

    async def cancel_at_period_end(self, provider_id: str, flag: bool) -> ProviderSubscription: ...

    async def invoice(self, provider_id: str) -> ProviderInvoice: ...


@dataclass(frozen=True, slots=True)
class ProviderInvoiceLine:
    description: str | None
    amount: int
    quantity: int | None
    proration: bool
    price: str | None = None  # the provider's price it bills, when it names one


@dataclass(frozen=True, slots=True)
class ProviderInvoice:
    """An invoice the provider made (its own number and amounts, minor units)."""

    id: str
    subscription: str | None
    number: str | None
    status: str  # draft | open | paid | void | uncollectible
    currency: str
    total: int
    amount_paid: int
    lines: tuple[ProviderInvoiceLine, ...]
    billing_reason: str | None = None
    # The provider's page where the customer sees (and, while open, pays) it.
    hosted_url: str | None = None
    created: datetime | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProviderInvoiceChanged:
    """Fact: the provider's invoice ``provider_id`` was finalized, paid or not; read again
    when applied."""

    provider_id: str


@dataclass(frozen=True, slots=True)
class ProviderSubscriptionChanged:
    """Fact: the provider's subscription ``provider_id`` changed (created, updated, deleted);
    what it is now is read again when the fact is applied."""

    provider_id: str


@dataclass(frozen=True, slots=True)
class ProviderRefused(Exception):
    """The provider refused a request (not a matter of retrying)."""

    message: str
