"""The payment port: what the engine asks of a payment provider, in neutral data.

Nothing outside ``seatledger.adapters.payments`` knows which provider answers.

Every gateway charges (``PaymentGateway``). A provider with pages of its own and events of its
own (``HostedPayments``) also:

* opens a hosted payment page for a checkout (``open_hosted_page``) and reads it back
  (``hosted_page``);
* verifies the events it sends (``verify_event``: a forged, stale or malformed one is
  ``InvalidProviderEvent``) and, later, turns one into a neutral *fact* by reading the object
  it is about again from the provider (``interpret``), so that a late or repeated event only
  ever carries the object's current state. The engine applies facts by their type
  (``seatledger.services.provider_events``).

A provider that cannot answer now (unreachable, 5xx, rate limited after its own retries)
raises ``PaymentProviderUnavailable``: nothing was decided, the same request (same
idempotency key) is sent again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    amount: int  # minor units, > 0
    currency: str
    payment_method: str
    customer: str  # the company id, or the buyer's email before the company exists
    description: str
    idempotency_key: str  # a retry with the same key never charges twice
    # The customer is at the checkout (may authenticate); the method is kept for later charges.
    on_session: bool = False


@dataclass(frozen=True, slots=True)
class PaymentResult:
    succeeded: bool
    reference: str | None = None
    failure_reason: str | None = None
    # The payment waits for the customer (3-D Secure): where they finish it.
    action_url: str | None = None
    # The method to charge next time, when the provider made one of what it was given.
    payment_method: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeCharge:
    """A subscription change's charge in flight: the request sent to the provider, and the
    instant the change was planned at. Asked again, the same change planned at that instant
    is sent under the same key (the provider answers the charge it took); any other change
    first settles this one."""

    subscription_id: str
    request: PaymentRequest
    planned_at: datetime
    held_at: datetime  # when it was written, just before it was sent


class PaymentGateway(Protocol):
    name: str

    def check_payment_method(self, payment_method: str) -> None:
        """``ValidationFailed`` naming ``payment_method`` when this provider does not know the
        method at all (a typo is not a decline); called before anything is charged or
        written."""
        ...

    async def charge(self, request: PaymentRequest) -> PaymentResult: ...


@dataclass(frozen=True, slots=True)
class CardSetupRequest:
    """Check a card and keep it for later charges, charging nothing (a free trial's start)."""

    payment_method: str
    customer: str  # as in ``PaymentRequest``
    idempotency_key: str


@runtime_checkable
class CardSetup(Protocol):
    """A provider that can check a card without charging it. A trial's checkout needs one:
    the card is refused at the confirm, not at the trial's end."""

    async def set_up_card(self, request: CardSetupRequest) -> PaymentResult:
        """Succeeded: the card may be charged later (``payment_method``, when the provider
        made one of it, is what to charge); failed: declined, with its reason."""
        ...


@runtime_checkable
class ProviderCustomers(Protocol):
    """A provider that keeps its own customer for each seatledger customer (Stripe)."""

    async def customer_for(self, key: str) -> str:
        """The provider's customer id for ``key`` (a company id or a buyer's email), made on
        first need."""
        ...


@runtime_checkable
class MinimumCharge(Protocol):
    """A provider that refuses charges below an amount per currency (Stripe's 0.50 USD …)."""

    def minimum_charge(self, currency: str) -> int: ...


def minimum_charge(gateway: object, currency: str) -> int:
    """The smallest amount (minor units) ``gateway`` charges in ``currency``: a positive
    proration below it waits for the next invoice (SPEC §7)."""
    return gateway.minimum_charge(currency) if isinstance(gateway, MinimumCharge) else 1


@dataclass(frozen=True, slots=True)
class HostedPageRequest:
    checkout_id: str
    amount: int
    currency: str
    customer: str  # as in ``PaymentRequest``
    description: str
    success_url: str
    cancel_url: str
    expires_at: datetime
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class HostedPage:
    """A provider's payment page for a checkout: ``open`` (``url`` leads to it), ``paid``
    (``result`` is the payment it took) or ``expired``."""

    id: str
    status: Literal["open", "paid", "expired"]
    url: str | None
    checkout_id: str | None
    amount: int
    currency: str
    result: PaymentResult | None = None


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """An event a provider sent, verified: its id (for deduplication), type and body."""

    id: str
    type: str
    payload: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class HostedPagePaid:
    """Fact: a checkout's hosted page took its payment."""

    page: HostedPage


@dataclass(frozen=True, slots=True)
class PaymentSettled:
    """Fact: a payment that waited for the customer has its outcome (``result.reference``)."""

    result: PaymentResult


@runtime_checkable
class HostedPayments(Protocol):
    async def open_hosted_page(self, request: HostedPageRequest) -> HostedPage: ...

    async def hosted_page(self, page_id: str) -> HostedPage: ...

    def verify_event(self, payload: bytes, signature: str | None) -> ProviderEvent: ...

    async def interpret(self, event: ProviderEvent) -> object | None:
        """The fact ``event`` stands for, from the object as the provider has it now; None when
        there is nothing for the engine to do."""
        ...
