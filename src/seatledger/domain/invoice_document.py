"""An invoice as a document people read (SPEC §11): who sells to whom, when, for what.

A neutral view of an ``Invoice`` that any format renders (the PDF adapter, a page): every
line's description readable on its own ("Seats 3 → 8, Jan 16 – Feb 1": a line of one period
names its span unless its description already does), amounts still in minor units.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.domain.invoice import Invoice, InvoiceLine
from seatledger.pricing.proration import describe_span

REASONS = {
    "subscription_create": "New subscription",
    "subscription_cycle": "Renewal",
    "subscription_update": "Subscription change",
    "subscription_cancel": "Cancellation",
    "order": "Order",
}


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity: int
    unit_amount: int
    amount: int


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice_id: str
    number: str  # "Draft" until the invoice is finalised
    status: str
    reason: str
    currency: str
    issued_at: datetime  # finalised, else created
    paid_at: datetime | None
    period: str | None  # "Jan 16 – Feb 16", None for an order
    seller: str
    buyer_name: str
    buyer_email: str | None
    lines: tuple[DocumentLine, ...]
    subtotal: int
    credit_applied: int
    total: int


def line_description(line: InvoiceLine) -> str:
    if line.period_start is None or line.period_end is None:
        return line.description
    span = describe_span(line.period_start, line.period_end)
    return line.description if span in line.description else f"{line.description}, {span}"


def invoice_document(
    invoice: Invoice, *, seller: str, buyer_name: str, buyer_email: str | None
) -> InvoiceDocument:
    period = None
    if invoice.period_start is not None and invoice.period_end is not None:
        period = describe_span(invoice.period_start, invoice.period_end)
    return InvoiceDocument(
        invoice_id=invoice.id,
        number=invoice.number or "Draft",
        status=invoice.status,
        reason=REASONS.get(invoice.reason, invoice.reason),
        currency=invoice.currency,
        issued_at=invoice.finalized_at or invoice.created_at,
        paid_at=invoice.paid_at,
        period=period,
        seller=seller,
        buyer_name=buyer_name,
        buyer_email=buyer_email,
        lines=tuple(
            DocumentLine(line_description(line), line.quantity, line.unit_amount, line.amount)
            for line in invoice.lines
        ),
        subtotal=invoice.subtotal,
        credit_applied=invoice.credit_applied,
        total=invoice.total,
    )


__all__ = ["DocumentLine", "InvoiceDocument", "invoice_document", "line_description"]
