"""Invoices: immutable records of money owed, with lines. Numbered when finalised.

``total = max(0, subtotal − credit_applied)``; what a negative subtotal leaves over stays as the
company's credit balance, never paid out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

InvoiceStatus = Literal["draft", "open", "paid", "void"]
LineKind = Literal["base", "seats", "proration", "credit"]


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    kind: LineKind
    description: str
    quantity: int
    unit_amount: int
    amount: int
    period_start: datetime | None
    period_end: datetime | None


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    number: str | None
    company_id: str | None
    subscription_id: str | None
    order_id: str | None
    status: InvoiceStatus
    currency: str
    subtotal: int
    credit_applied: int
    total: int
    period_start: datetime | None
    period_end: datetime | None
    lines: tuple[InvoiceLine, ...]
    created_at: datetime


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"
