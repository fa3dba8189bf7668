"""The provider's invoices of the subscriptions it bills (``billing`` mode), kept apart from
seatledger's own invoices: one row per provider invoice, rewritten with its current state, and
read back in seatledger's invoice shape (``as_invoice``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, cast, get_args

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.invoice import Invoice, InvoiceLine, InvoiceReason, InvoiceStatus, LineKind
from seatledger.domain.provider_billing import ProviderInvoice


class ProviderInvoices:
    """The provider's invoices as kept, on the unit of work's connection
    (``uow.provider_invoices``)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def keep(
        self,
        provider: str,
        subscription_id: str,
        invoice: ProviderInvoice,
        now: datetime,
        *,
        kinds: Sequence[LineKind] = (),
    ) -> None:
        """Keep ``invoice`` as it is now; ``kinds``: what each line bills, in seatledger's words."""
        lines = [
            {**asdict(line), "kind": kind}
            for line, kind in zip(
                invoice.lines, kinds or ["seats"] * len(invoice.lines), strict=True
            )
        ]
        values: dict[str, Any] = {
            "id": invoice.id,
            "provider": provider,
            "subscription_id": subscription_id,
            "number": invoice.number,
            "status": invoice.status,
            "currency": invoice.currency,
            "total": invoice.total,
            "amount_paid": invoice.amount_paid,
            "lines": lines,
            "updated_at": now,
            "billing_reason": invoice.billing_reason,
            "hosted_url": invoice.hosted_url,
            "created_at": invoice.created,
            "period_start": invoice.period_start,
            "period_end": invoice.period_end,
            "paid_at": invoice.paid_at,
        }
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.provider_invoices).values(values)
        changing = {k: statement.excluded[k] for k in values if k != "id"}
        await self._connection.execute(
            statement.on_conflict_do_update(index_elements=["id"], set_=changing)
        )

    async def of_subscription(self, subscription_id: str) -> list[Any]:
        table = t.provider_invoices
        query = select(table).where(table.c.subscription_id == subscription_id).order_by(table.c.id)
        return list((await self._connection.execute(query)).all())

    async def of_company(self, company_id: str, limit: int) -> list[Any]:
        """The newest ``limit`` provider invoices of the company's subscriptions, with each
        one's company (``company_id``)."""
        table = t.provider_invoices
        query = (
            select(table, t.subscriptions.c.company_id)
            .join(t.subscriptions, t.subscriptions.c.id == table.c.subscription_id)
            .where(t.subscriptions.c.company_id == company_id)
            .order_by(table.c.created_at.desc(), table.c.id.desc())
            .limit(limit)
        )
        return list((await self._connection.execute(query)).all())


_STATUSES = frozenset(get_args(InvoiceStatus))
_REASONS = frozenset(get_args(InvoiceReason))


def _line(raw: dict[str, Any], row: Any) -> InvoiceLine:
    """A provider's line: its amount as it billed it. A line whose amount is not its quantity
    times a whole unit amount (a graduated tier) shows as one unit of that amount."""
    amount = int(raw["amount"])
    quantity = int(raw.get("quantity") or 1)
    if quantity < 1 or amount % quantity:
        quantity = 1
    kind = raw.get("kind") or "seats"
    if raw.get("proration"):
        kind = "proration"
    return InvoiceLine(
        kind=cast(LineKind, kind),
        description=raw.get("description") or "",
        quantity=quantity,
        unit_amount=amount // quantity,
        amount=amount,
        period_start=row.period_start,
        period_end=row.period_end,
    )


def as_invoice(row: Any, company_id: str | None) -> Invoice:
    """A kept provider invoice in seatledger's invoice shape (``provider`` says whose it is):
    its subtotal the sum of its lines, the provider's total, what the provider took off the
    subtotal as the credit applied. Its reason is the provider's billing reason when seatledger
    has the same word, else ``subscription_update``."""
    lines = tuple(_line(raw, row) for raw in row.lines)
    subtotal = sum(line.amount for line in lines)
    status = row.status if row.status in _STATUSES else "open"
    reason = row.billing_reason if row.billing_reason in _REASONS else "subscription_update"
    return Invoice(
        id=row.id,
        number=row.number,
        company_id=company_id,
        subscription_id=row.subscription_id,
        order_id=None,
        status=cast(InvoiceStatus, status),
        reason=cast(InvoiceReason, reason),
        currency=row.currency,
        subtotal=subtotal,
        credit_applied=max(0, subtotal - int(row.total)),
        total=int(row.total),
        period_start=row.period_start,
        period_end=row.period_end,
        lines=lines,
        created_at=row.created_at or row.updated_at,
        finalized_at=row.created_at if row.number else None,
        paid_at=row.paid_at,
        payment_url=row.hosted_url if row.status == "open" else None,
        provider=row.provider,
        hosted_invoice_url=row.hosted_url,
    )


__all__ = ["ProviderInvoices", "as_invoice"]
