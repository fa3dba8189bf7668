"""Errors raised by the pricing engine; part of the one catalogue (``seatledger.domain.errors``).

    SeatledgerError              (seatledger.errors)
    └── PricingError             any pricing rule broken
        ├── InvalidPrice         a price definition breaks a rule (``validation_error``)
        └── SeatsOutOfRange      a seat count outside what a price allows (``seats_out_of_range``)

Each error names the offending fields (``errors``: ``(field, message)`` pairs) so that the
HTTP edge can answer a problem document without knowing the rules. No HTTP status lives here.
"""

from __future__ import annotations

from collections.abc import Sequence

from seatledger.errors import SeatledgerError


class PricingError(SeatledgerError):
    """Abstract: a pricing rule is broken; the detail lists every offending field."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        listed = tuple(errors)
        super().__init__(
            "; ".join(f"{field}: {message}" for field, message in listed), errors=listed
        )


class InvalidPrice(PricingError):
    code = "validation_error"


class SeatsOutOfRange(PricingError):
    code = "seats_out_of_range"
