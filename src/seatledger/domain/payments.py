"""The payment port: what the engine asks of a payment provider, in neutral data.

Nothing outside ``seatledger.adapters.payments`` knows which provider answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    amount: int  # minor units, > 0
    currency: str
    payment_method: str
    customer: str  # the company id, or the buyer's email before the company exists
    description: str
    idempotency_key: str  # a retry with the same key never charges twice


@dataclass(frozen=True, slots=True)
class PaymentResult:
    succeeded: bool
    reference: str | None = None
    failure_reason: str | None = None


class PaymentGateway(Protocol):
    name: str

    def check_payment_method(self, payment_method: str) -> None:
        """``ValidationFailed`` naming ``payment_method`` when this provider does not know the
        method at all (a typo is not a decline); called before anything is charged or
        written."""
        ...

    async def charge(self, request: PaymentRequest) -> PaymentResult: ...
