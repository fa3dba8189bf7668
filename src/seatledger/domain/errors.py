"""Domain errors: each carries a stable ``code``; the HTTP edge alone maps codes to statuses.

    DomainError
    ├── ValidationFailed         bad input (``validation_error``), naming the fields
    ├── NotFound                 unknown or not yours (``not_found``), naming the field when the id
    │                            came inside a body
    ├── Conflict                 the request is valid but the state forbids it; code says which:
    │                            no_seats_available, already_assigned, order_not_paid,
    │                            company_required, seat_not_pending, billing_manager_required,
    │                            checkout_not_open, price_archived, seat_limit_reached,
    │                            seats_below_assigned, subscription_not_active, ...
    ├── InvalidToken             a used, expired, revoked or unknown invitation (``invalid_token``)
    ├── PaymentFailed            the payment provider declined (``payment_failed``)
    ├── Forbidden                authenticated but not allowed (``forbidden``)
    └── NotReady                 the database does not answer, or its schema is not the one this
                                 code needs (``not_ready``)

Pricing rule violations are ``seatledger.pricing.PricingError`` (``validation_error`` and
``seats_out_of_range``); they carry the same ``code``/``errors`` shape.

``CorruptData`` is not a domain error: stored data that the engine's own rules refuse (written
before the rule existed, or by hand). The use case stops before it commits; the API answers a
bare 500 and logs it.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str, *, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: tuple[tuple[str, str], ...] = tuple(errors)


class ValidationFailed(DomainError):
    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(f"{field}: {message}", errors=[(field, message)])


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, what: str, *, field: str | None = None) -> None:
        errors = [(field, f"no such {what}")] if field else []
        super().__init__(f"No such {what}.", errors=errors)


class Conflict(DomainError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


class InvalidToken(DomainError):
    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("This invitation is used, expired, revoked or unknown.")


class PaymentFailed(DomainError):
    code = "payment_failed"


class Forbidden(DomainError):
    code = "forbidden"


class NotReady(DomainError):
    code = "not_ready"


class CorruptData(Exception):
    """Stored data breaks a rule the engine enforces on input; nothing was committed."""
