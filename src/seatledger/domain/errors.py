"""The error catalogue: one class per stable ``code``, under one root.

    SeatledgerError                (seatledger.errors) code, detail, errors — never a status
    ├── PricingError               (seatledger.pricing) a pricing rule is broken
    │   ├── InvalidPrice           validation_error    a price definition, naming its fields
    │   └── SeatsOutOfRange        seats_out_of_range  a seat count the price does not allow
    ├── ValidationFailed           validation_error    bad input, naming the fields
    ├── NotFound                   not_found           unknown or not yours; names the field when
    │                                                  the id came inside a body
    ├── Conflict                   (kind) the request is valid but the state forbids it
    │   ├── NoSeatsAvailable       no_seats_available
    │   ├── AlreadyAssigned        already_assigned
    │   ├── OrderNotPaid           order_not_paid
    │   ├── CompanyRequired        company_required
    │   ├── SeatNotPending         seat_not_pending
    │   ├── BillingManagerRequired billing_manager_required
    │   ├── CheckoutNotOpen        checkout_not_open
    │   ├── PriceArchived          price_archived
    │   ├── TrialNotSupported      trial_not_supported
    │   ├── SeatLimitReached       seat_limit_reached
    │   ├── SeatsBelowAssigned     seats_below_assigned
    │   ├── SubscriptionNotActive  subscription_not_active
    │   ├── SubscriptionChanged    subscription_changed
    │   ├── InvoiceNotOpen         invoice_not_open
    │   ├── AlreadyMember          already_member
    │   ├── AlreadyAttached        already_attached
    │   ├── ExternalIdTaken        external_id_taken
    │   ├── IdempotencyConflict    idempotency_conflict
    │   └── DeliveryNotRetryable   delivery_not_retryable
    ├── InvalidToken               invalid_token       a used, expired, revoked or unknown
    │                                                  invitation
    ├── PaymentFailed              payment_failed      the payment provider declined
    ├── PaymentProviderUnavailable payment_provider_unavailable  the provider cannot answer
    │                                                  now; nothing was decided, try later
    ├── InvalidProviderEvent       invalid_provider_event  a provider's event that is forged,
    │                                                  stale, unsigned or malformed
    ├── Unauthenticated            unauthenticated     no valid credential
    ├── Forbidden                  forbidden           authenticated but not allowed
    └── NotReady                   not_ready           the database does not answer, or its
                                                       schema is not the one this code needs

Raise the class, never a bare code; code that tells errors apart uses ``isinstance``. The
classes above with a code are the whole catalogue: the API documents exactly these codes (plus
the few the HTTP edge makes itself, such as ``invalid_json``), and ``seatledger.web.statuses``
alone maps a class (or its kind: every ``Conflict`` is one status) to an HTTP status, for the
API's problem documents and the pages alike.

``CorruptData`` is not in the catalogue: stored data that the engine's own rules refuse (written
before the rule existed, or by hand). The use case stops before it commits; the API logs it and
answers ``internal_error`` without details.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from seatledger.errors import SeatledgerError
from seatledger.pricing.errors import InvalidPrice, PricingError, SeatsOutOfRange


class ValidationFailed(SeatledgerError):
    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[(field, message)])


class NotFound(SeatledgerError):
    code = "not_found"

    def __init__(self, what: str, *, field: str | None = None) -> None:
        errors = [(field, f"no such {what}")] if field else []
        super().__init__(f"No such {what}.", errors=errors)


class Conflict(SeatledgerError):
    """Abstract: the state forbids a valid request. ``detail`` defaults to the class's own."""

    default_detail: ClassVar[str]

    def __init__(
        self, detail: str | None = None, *, errors: Sequence[tuple[str, str]] = ()
    ) -> None:
        super().__init__(self.default_detail if detail is None else detail, errors=errors)


class NoSeatsAvailable(Conflict):
    code = "no_seats_available"
    default_detail = "Every seat of this subscription is assigned."


class AlreadyAssigned(Conflict):
    code = "already_assigned"
    default_detail = "This person already holds a seat in this pool."


class OrderNotPaid(Conflict):
    code = "order_not_paid"
    default_detail = "Seats of an order are assignable once it is paid."


class CompanyRequired(Conflict):
    code = "company_required"
    default_detail = "This subscription is not attached to a company yet."


class SeatNotPending(Conflict):
    code = "seat_not_pending"
    default_detail = "Only a pending seat has an invitation to resend."


class BillingManagerRequired(Conflict):
    code = "billing_manager_required"
    default_detail = "hand the role over first"


class CheckoutNotOpen(Conflict):
    code = "checkout_not_open"
    default_detail = "This checkout is completed or expired."


class PriceArchived(Conflict):
    code = "price_archived"
    default_detail = "This price is archived and can no longer be bought."


class TrialNotSupported(Conflict):
    code = "trial_not_supported"
    default_detail = (
        "This price starts with a free trial, which the configured payment provider cannot"
        " take yet: buy a price without one."
    )


class SeatLimitReached(Conflict):
    code = "seat_limit_reached"
    default_detail = "This subscription has its maximum of seats."


class SeatsBelowAssigned(Conflict):
    code = "seats_below_assigned"
    default_detail = "More seats are assigned: revoke seats first."


class SubscriptionNotActive(Conflict):
    code = "subscription_not_active"
    default_detail = "This subscription is canceled."


class SubscriptionChanged(Conflict):
    code = "subscription_changed"
    default_detail = (
        "The subscription changed while the payment was taken; the amount is on the"
        " company's credit balance. Try the change again."
    )


class InvoiceNotOpen(Conflict):
    code = "invoice_not_open"
    default_detail = "Only an open invoice can be paid."


class AlreadyMember(Conflict):
    code = "already_member"
    default_detail = "A current member of this company has this email."


class AlreadyAttached(Conflict):
    code = "already_attached"
    default_detail = "This purchase belongs to another company."


class ExternalIdTaken(Conflict):
    code = "external_id_taken"
    default_detail = "Another company already has this external_id."


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_detail = "This Idempotency-Key was used with another request; use a new key."


class DeliveryNotRetryable(Conflict):
    code = "delivery_not_retryable"
    default_detail = "Only a pending or failed webhook delivery is sent again."


class InvalidToken(SeatledgerError):
    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("This invitation is used, expired, revoked or unknown.")


class PaymentFailed(SeatledgerError):
    code = "payment_failed"


class PaymentProviderUnavailable(SeatledgerError):
    code = "payment_provider_unavailable"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail
            or "The payment provider cannot be reached right now; nothing was charged or"
            " changed. Try again later."
        )


class InvalidProviderEvent(SeatledgerError):
    code = "invalid_provider_event"


class Unauthenticated(SeatledgerError):
    code = "unauthenticated"

    def __init__(self) -> None:
        super().__init__("Send a valid API key or customer session as 'Authorization: Bearer …'.")


class Forbidden(SeatledgerError):
    code = "forbidden"


class NotReady(SeatledgerError):
    code = "not_ready"


class CorruptData(Exception):
    """Stored data breaks a rule the engine enforces on input; nothing was committed."""


def catalogue() -> dict[str, list[type[SeatledgerError]]]:
    """Every class that declares a ``code``, by code (a code may have a pricing twin:
    ``validation_error`` is both ``ValidationFailed`` and ``InvalidPrice``)."""
    found: dict[str, list[type[SeatledgerError]]] = {}
    pending: list[type[SeatledgerError]] = [SeatledgerError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if "code" in vars(kind):
            found.setdefault(kind.code, []).append(kind)
    return found


__all__ = [
    "AlreadyAssigned",
    "AlreadyAttached",
    "AlreadyMember",
    "BillingManagerRequired",
    "CheckoutNotOpen",
    "CompanyRequired",
    "Conflict",
    "CorruptData",
    "DeliveryNotRetryable",
    "ExternalIdTaken",
    "Forbidden",
    "IdempotencyConflict",
    "InvalidPrice",
    "InvalidProviderEvent",
    "InvalidToken",
    "InvoiceNotOpen",
    "NoSeatsAvailable",
    "NotFound",
    "NotReady",
    "OrderNotPaid",
    "PaymentFailed",
    "PaymentProviderUnavailable",
    "PriceArchived",
    "PricingError",
    "SeatLimitReached",
    "SeatNotPending",
    "SeatledgerError",
    "SeatsBelowAssigned",
    "SeatsOutOfRange",
    "SubscriptionChanged",
    "SubscriptionNotActive",
    "TrialNotSupported",
    "Unauthenticated",
    "ValidationFailed",
    "catalogue",
]
