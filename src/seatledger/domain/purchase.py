"""Purchases: checkouts, and the seat pools they create (subscriptions and orders).

Lifecycles:
    checkout      open → completed | expired (a declined card leaves it open)
    subscription  [trialing →] active ⇄ past_due → canceled (canceled is final; a trial's end
                  bills the first period: paid, active; declined, past_due)
    order         paid (its seat count never changes; more seats is a new order)

A purchase made before its company exists is owner-scoped (``company_id`` is None, the buyer's
email is ``owner_email``) until a company is created with that billing manager email, or the
merchant attaches it explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.seat_pool import SeatPool

CheckoutStatus = Literal["open", "completed", "expired"]
SubscriptionStatus = Literal["trialing", "active", "past_due", "canceled"]
OrderStatus = Literal["pending", "paid"]

CHECKOUT_TTL = timedelta(hours=24)
MAX_PAYMENT_METHOD_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Checkout:
    id: str
    price_id: str
    seats: int
    company_id: str | None
    customer_email: str | None
    status: CheckoutStatus
    amount_due: int
    currency: str
    expires_at: datetime
    subscription_id: str | None
    order_id: str | None
    created_at: datetime
    # The charge waits for the buyer (3-D Secure): where they finish it, while it does.
    payment_url: str | None = None
    # A trial price's checkout: nothing is due now; the trial lasts ``trial_days`` from the
    # confirm, and its end bills ``amount_after_trial`` (the seats held then decide).
    trial_days: int | None = None
    amount_after_trial: int | None = None

    @property
    def customer(self) -> str:
        """Who pays: the buyer's email before a company exists, else the company."""
        return self.customer_email or self.company_id or ""

    def as_of(self, now: datetime) -> Checkout:
        """The checkout as it reads at ``now``: an open one past its expiry is expired,
        whether or not that was written."""
        if self.status == "open" and self.expires_at <= now:
            return replace(self, status="expired")
        return self


@dataclass(frozen=True, slots=True)
class PendingChange:
    seats: int
    price_id: str
    effective_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    company_id: str | None
    owner_email: str
    price_id: str
    status: SubscriptionStatus
    seats: int
    assigned_seats: int
    billing_anchor: datetime
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    canceled_at: datetime | None
    pending_change: PendingChange | None
    created_at: datetime
    payment_method: str | None = None  # saved at purchase, charged at renewal
    # Dunning: when a renewal payment first failed, and when payment is tried next.
    past_due_since: datetime | None = None
    next_payment_attempt_at: datetime | None = None
    # The engine's own bookkeeping, in no answer nor event: the provider's customer the
    # checkout charged (renewals charge the same one), and the failed attempts so far.
    payment_customer: str | None = None
    payment_attempts: int = 0
    # When its free trial (its first period) ends; None when bought without one.
    trial_end: datetime | None = None

    @property
    def available_seats(self) -> int:
        return self.seats - self.assigned_seats

    @property
    def customer(self) -> str:
        """The payment provider's customer: the one its checkout charged."""
        return self.payment_customer or self.company_id or self.owner_email

    def pool(self) -> SeatPool:
        """The subscription's seat pool, with its counts as this row has them."""
        return SeatPool(
            id=self.id,
            kind="subscription",
            company_id=self.company_id,
            price_id=self.price_id,
            owner_status=self.status,
            seats=self.seats,
            assigned_seats=self.assigned_seats,
        )


@dataclass(frozen=True, slots=True)
class Order:
    id: str
    company_id: str | None
    owner_email: str
    price_id: str
    status: OrderStatus
    seats: int
    assigned_seats: int
    amount: int
    currency: str
    created_at: datetime

    @property
    def available_seats(self) -> int:
        return self.seats - self.assigned_seats


def check_payment_method(value: object, *, field: str = "payment_method") -> str:
    """A payment method reference (``pm_…``): a non-empty string of at most 100 characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_PAYMENT_METHOD_LENGTH:
        raise ValidationFailed.field(
            field,
            f"must be a payment method reference of 1 to {MAX_PAYMENT_METHOD_LENGTH} characters",
        )
    return value
