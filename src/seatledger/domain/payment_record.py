"""What the engine keeps of each payment it asked a provider for: taken or declined, for an
invoice or a checkout, or neither (money kept as credit when the thing it paid moved on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from seatledger.domain.ids import new_id
from seatledger.domain.payments import PaymentResult

PaymentStatus = Literal["succeeded", "failed"]
MAX_FAILURE_REASON = 300


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: str
    invoice_id: str | None
    checkout_id: str | None
    provider: str
    provider_reference: str | None
    payment_method: str
    amount: int
    currency: str
    status: PaymentStatus
    failure_reason: str | None
    created_at: datetime

    @classmethod
    def of(
        cls,
        result: PaymentResult,
        *,
        provider: str,
        payment_method: str,
        amount: int,
        currency: str,
        now: datetime,
        invoice_id: str | None = None,
        checkout_id: str | None = None,
    ) -> PaymentRecord:
        """The record of ``result``: a decline keeps its reason (cut to the column's length)."""
        return cls(
            id=new_id("pay"),
            invoice_id=invoice_id,
            checkout_id=checkout_id,
            provider=provider,
            provider_reference=result.reference,
            payment_method=payment_method,
            amount=amount,
            currency=currency,
            status="succeeded" if result.succeeded else "failed",
            failure_reason=None
            if result.succeeded
            else (result.failure_reason or "")[:MAX_FAILURE_REASON],
            created_at=now,
        )
