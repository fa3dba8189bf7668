"""Errors raised by the pricing engine.

    PricingError                 any pricing rule broken; carries a stable ``code``
    ├── InvalidPrice             a price definition breaks a rule (code ``validation_error``)
    └── SeatsOutOfRange          a seat count outside what a price allows (``seats_out_of_range``)

Each error names the offending fields (``errors``: ``(field, message)`` pairs) so that the
HTTP edge can answer a problem document without knowing the rules. No HTTP status lives here.
"""

from __future__ import annotations

from collections.abc import Sequence


class PricingError(Exception):
    code = "pricing_error"

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors: tuple[tuple[str, str], ...] = tuple(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))

    @property
    def detail(self) -> str:
        return str(self)


class InvalidPrice(PricingError):
    code = "validation_error"


class SeatsOutOfRange(PricingError):
    code = "seats_out_of_range"
