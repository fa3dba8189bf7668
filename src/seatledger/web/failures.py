"""Business errors on the pages: the status a page answers with, and the fields to mark.

A page catches the service's ``SeatledgerError`` and renders itself again with the error's
message (never a problem document); the status follows the error's kind, as the API's do.
"""

from __future__ import annotations

from seatledger.domain.errors import (
    Conflict,
    Forbidden,
    InvalidToken,
    NotFound,
    PaymentFailed,
    Unauthenticated,
    ValidationFailed,
)
from seatledger.errors import SeatledgerError
from seatledger.pricing import PricingError

_STATUS_OF: tuple[tuple[type[SeatledgerError], int], ...] = (
    (InvalidToken, 400),
    (Unauthenticated, 401),
    (PaymentFailed, 402),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (ValidationFailed, 422),
    (PricingError, 422),
)


def status_of(error: SeatledgerError) -> int:
    for kind, status in _STATUS_OF:
        if isinstance(error, kind):
            return status
    return 400


def invalid_fields(error: SeatledgerError) -> dict[str, str]:
    """The fields the error names, with their messages (``aria-invalid`` and the hint)."""
    return {field: message for field, message in error.errors}


__all__ = ["invalid_fields", "status_of"]
