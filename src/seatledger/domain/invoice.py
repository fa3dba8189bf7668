"""Invoices: immutable records of money owed, with lines. Numbered when finalised.

    draft ──finalise──▶ open ──pay──▶ paid
                          └──────────▶ void

``subtotal`` is the sum of the lines; ``total = max(0, subtotal − credit_applied)``, and the
credit applied never exceeds a positive subtotal: what a negative subtotal leaves over stays as
the company's credit balance, never paid out. A finalised invoice (open or paid) carries a
number from one gapless sequence (``INV-000001``); a draft has none.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from seatledger.pricing import Line

# ``uncollectible``: only a provider's invoice (Stripe's, in ``billing`` mode).
InvoiceStatus = Literal["draft", "open", "paid", "void", "uncollectible"]
LineKind = Literal["base", "seats", "proration", "credit"]
# Why an invoice exists: its first period, a renewal, a change, a cancellation, an order.
InvoiceReason = Literal[
    "subscription_create",
    "subscription_cycle",
    "subscription_update",
    "subscription_cancel",
    "order",
]
FINALISED: tuple[str, ...] = ("open", "paid")


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
    reason: InvoiceReason
    currency: str
    subtotal: int
    credit_applied: int
    total: int
    period_start: datetime | None
    period_end: datetime | None
    lines: tuple[InvoiceLine, ...]
    created_at: datetime
    finalized_at: datetime | None
    paid_at: datetime | None
    # Where the customer finishes a payment that waits for them (3-D Secure), while it does.
    payment_url: str | None = None
    # None: seatledger's own invoice. Otherwise the provider that made it and keeps it
    # (``billing`` mode: Stripe's, mirrored), its number the provider's, and its page there.
    provider: str | None = None
    hosted_invoice_url: str | None = None


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"


def invoice_lines(
    lines: Iterable[Line], *, period_start: datetime | None, period_end: datetime | None
) -> tuple[InvoiceLine, ...]:
    """Priced lines (``SeatPrice.lines``) as invoice lines of one period (None for an order)."""
    return tuple(
        InvoiceLine(
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount=line.amount,
            period_start=period_start,
            period_end=period_end,
        )
        for line in lines
    )


def totals(lines: Sequence[InvoiceLine], credit_applied: int) -> tuple[int, int]:
    """``(subtotal, total)``; the credit applied must lie within ``[0, max(0, subtotal)]``."""
    subtotal = sum(line.amount for line in lines)
    if not 0 <= credit_applied <= max(0, subtotal):
        raise ValueError(
            f"credit_applied {credit_applied} must be between 0 and the subtotal {subtotal}"
        )
    return subtotal, max(0, subtotal - credit_applied)


def apply_balance(subtotal: int, balance: int) -> tuple[int, int]:
    """``(credit_applied, balance_after)`` for an invoice of ``subtotal`` and a credit balance.

    The balance pays what it can of a positive subtotal; a negative subtotal (a net credit) is
    added to it. The total is then ``max(0, subtotal − credit_applied)``, never negative, and
    credit is never paid out.
    """
    if balance < 0:
        raise ValueError("a credit balance is never negative")
    if subtotal <= 0:
        return 0, balance - subtotal
    applied = min(balance, subtotal)
    return applied, balance - applied
