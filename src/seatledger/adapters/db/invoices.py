"""Invoices in the database: ``invoices`` rows with their ``invoice_lines``, read and written as
``Invoice`` values (``seatledger.domain.invoice``).

The number sequence is the single ``invoice_sequence`` row, incremented in the caller's
transaction (``reserve_numbers``): a rollback gives the numbers back, and concurrent
finalisations queue on the row. Invoices and lines are written in one batched insert each
(``seatledger.adapters.db.bulk``: ``COPY`` on PostgreSQL for a large batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.bulk import insert_rows
from seatledger.domain.invoice import Invoice, InvoiceLine

InvoiceOwner = Literal["company_id", "subscription_id", "order_id"]
INVOICE_ID: ColumnElement[str] = t.invoices.c.id
_OWNERS: dict[InvoiceOwner, Table] = {
    "company_id": t.companies,
    "subscription_id": t.subscriptions,
    "order_id": t.orders,
}


def line_from_row(row: Any) -> InvoiceLine:
    return InvoiceLine(
        kind=row.kind,
        description=row.description,
        quantity=row.quantity,
        unit_amount=row.unit_amount,
        amount=row.amount,
        period_start=row.period_start,
        period_end=row.period_end,
    )


def invoice_from_row(row: Any, lines: Sequence[InvoiceLine] = ()) -> Invoice:
    """An ``invoices`` row as an ``Invoice`` (with ``lines`` when they were read)."""
    return Invoice(
        id=row.id,
        number=row.number,
        company_id=row.company_id,
        subscription_id=row.subscription_id,
        order_id=row.order_id,
        status=row.status,
        reason=row.reason,
        currency=row.currency,
        subtotal=row.subtotal,
        credit_applied=row.credit_applied,
        total=row.total,
        period_start=row.period_start,
        period_end=row.period_end,
        lines=tuple(lines),
        created_at=row.created_at,
        finalized_at=row.finalized_at,
        paid_at=row.paid_at,
        # Statements that return chosen columns (a renewal's RETURNING) may leave it out.
        payment_url=getattr(row, "payment_url", None),
    )


def _invoice_row(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": invoice.id,
        "number": invoice.number,
        "company_id": invoice.company_id,
        "subscription_id": invoice.subscription_id,
        "order_id": invoice.order_id,
        "status": invoice.status,
        "reason": invoice.reason,
        "currency": invoice.currency,
        "subtotal": invoice.subtotal,
        "credit_applied": invoice.credit_applied,
        "total": invoice.total,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "created_at": invoice.created_at,
        "finalized_at": invoice.finalized_at,
        "paid_at": invoice.paid_at,
    }


def _line_rows(invoices: Sequence[Invoice]) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": invoice.id,
            "position": position,
            "kind": line.kind,
            "description": line.description,
            "quantity": line.quantity,
            "unit_amount": line.unit_amount,
            "amount": line.amount,
            "period_start": line.period_start,
            "period_end": line.period_end,
        }
        for invoice in invoices
        for position, line in enumerate(invoice.lines)
    ]


async def with_lines(connection: AsyncConnection, rows: Sequence[Any]) -> list[Invoice]:
    """The invoices of ``rows`` with their lines, read in one query."""
    if not rows:
        return []
    lines: dict[str, list[InvoiceLine]] = {row.id: [] for row in rows}
    line_rows = await connection.execute(
        select(t.invoice_lines)
        .where(t.invoice_lines.c.invoice_id.in_(list(lines)))
        .order_by(t.invoice_lines.c.invoice_id, t.invoice_lines.c.position)
    )
    for line in line_rows:
        lines[line.invoice_id].append(line_from_row(line))
    return [invoice_from_row(row, lines[row.id]) for row in rows]


class Invoices:
    """The invoices of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def reserve_numbers(self, count: int) -> int:
        """Take ``count`` consecutive numbers; answers the last number before them."""
        last = (
            await self._connection.execute(
                update(t.invoice_sequence)
                .where(t.invoice_sequence.c.id == 1)
                .values(last_number=t.invoice_sequence.c.last_number + count)
                .returning(t.invoice_sequence.c.last_number)
            )
        ).scalar_one()
        return int(last) - count

    async def add(self, invoices: Sequence[Invoice]) -> None:
        """Write new invoices and all their lines: one batched insert each."""
        if not invoices:
            return
        await insert_rows(self._connection, t.invoices, [_invoice_row(i) for i in invoices])
        line_rows = _line_rows(invoices)
        if line_rows:
            await insert_rows(self._connection, t.invoice_lines, line_rows)

    async def get(
        self, invoice_id: str, *, scope_company_id: str | None = None, lines: bool = True
    ) -> Invoice | None:
        """The invoice with its lines, or without them unless ``lines`` (None when absent or
        outside the company's scope)."""
        query = select(t.invoices).where(t.invoices.c.id == invoice_id)
        if scope_company_id is not None:
            query = query.where(t.invoices.c.company_id == scope_company_id)
        row = (await self._connection.execute(query)).first()
        if row is None:
            return None
        if not lines:
            return invoice_from_row(row)
        (invoice,) = await with_lines(self._connection, [row])
        return invoice

    async def by_ids(self, invoice_ids: Sequence[str]) -> dict[str, Invoice]:
        """The invoices of ``invoice_ids`` with their lines, by id (absent ones left out)."""
        if not invoice_ids:
            return {}
        rows = (
            await self._connection.execute(
                select(t.invoices).where(t.invoices.c.id.in_(list(invoice_ids)))
            )
        ).all()
        return {invoice.id: invoice for invoice in await with_lines(self._connection, rows)}

    async def open_of(self, subscription_ids: Sequence[str]) -> list[Invoice]:
        """The subscriptions' open invoices (without their lines), by number."""
        rows = await self._connection.execute(
            select(t.invoices)
            .where(
                t.invoices.c.subscription_id.in_(list(subscription_ids)),
                t.invoices.c.status == "open",
            )
            .order_by(t.invoices.c.number)
        )
        return [invoice_from_row(row) for row in rows]

    async def with_open(self, subscription_ids: Sequence[str]) -> set[str]:
        """The subscriptions among ``subscription_ids`` with an open invoice."""
        if not subscription_ids:
            return set()
        rows = await self._connection.execute(
            select(t.invoices.c.subscription_id)
            .where(
                t.invoices.c.subscription_id.in_(list(subscription_ids)),
                t.invoices.c.status == "open",
            )
            .distinct()
        )
        return {str(row.subscription_id) for row in rows}

    async def mark_paid(self, invoice_ids: Sequence[str], now: datetime) -> set[str]:
        """Open invoices among ``invoice_ids`` become paid; answers the ones that did."""
        if not invoice_ids:
            return set()
        rows = await self._connection.execute(
            update(t.invoices)
            .where(t.invoices.c.id.in_(list(invoice_ids)), t.invoices.c.status == "open")
            .values(status="paid", paid_at=now, payment_url=None)
            .returning(t.invoices.c.id)
        )
        return {str(row.id) for row in rows}

    async def drop_payment_url(self, invoice_id: str) -> None:
        """The customer can no longer finish the payment the invoice's link led to."""
        await self._connection.execute(
            update(t.invoices).where(t.invoices.c.id == invoice_id).values(payment_url=None)
        )

    async def keep_payment_urls(self, links: Sequence[tuple[str, str]]) -> None:
        """Open invoices whose payment waits for the customer keep where they finish it
        (``(invoice id, url)`` pairs)."""
        for invoice_id, url in links:
            await self._connection.execute(
                update(t.invoices)
                .where(t.invoices.c.id == invoice_id, t.invoices.c.status == "open")
                .values(payment_url=url)
            )

    async def attach(
        self, company_id: str, subscription_ids: Sequence[str], order_ids: Sequence[str]
    ) -> None:
        """The owner-scoped invoices of these purchases follow them into the company."""
        if not subscription_ids and not order_ids:
            return
        await self._connection.execute(
            update(t.invoices)
            .where(
                t.invoices.c.company_id.is_(None),
                or_(
                    t.invoices.c.subscription_id.in_(list(subscription_ids)),
                    t.invoices.c.order_id.in_(list(order_ids)),
                ),
            )
            .values(company_id=company_id)
        )

    async def void_open_renewals(self, subscription_id: str) -> list[Invoice]:
        """Void the subscription's open renewal invoices; answers them (without their lines),
        by id."""
        rows = await self._connection.execute(
            update(t.invoices)
            .where(
                t.invoices.c.subscription_id == subscription_id,
                t.invoices.c.status == "open",
                t.invoices.c.reason == "subscription_cycle",
            )
            .values(status="void")
            .returning(*t.invoices.c)
        )
        return [invoice_from_row(row) for row in sorted(rows, key=lambda r: r.id)]

    def query(
        self,
        *,
        owner: InvoiceOwner | None = None,
        owner_id: str | None = None,
        scope_company_id: str | None = None,
    ) -> Select[Any]:
        """The invoices of one owner (or all, of ``scope_company_id`` when given), for
        ``read`` once paged (order on ``INVOICE_ID``)."""
        query = select(t.invoices)
        if owner is not None:
            return query.where(t.invoices.c[owner] == owner_id)
        if scope_company_id is not None:
            query = query.where(t.invoices.c.company_id == scope_company_id)
        return query

    async def read(self, query: Select[Any]) -> list[Invoice]:
        """The invoices ``query`` (from ``query``) selects, in its order, with their lines."""
        rows = (await self._connection.execute(query)).all()
        return await with_lines(self._connection, rows)

    async def owner_exists(
        self, owner: InvoiceOwner, owner_id: object, scope_company_id: str | None
    ) -> bool:
        """Whether the company, subscription or order exists (within the company's scope)."""
        if not isinstance(owner_id, str):
            return False
        table = _OWNERS[owner]
        query = select(table.c.id).where(table.c.id == owner_id)
        if scope_company_id is not None:
            scope = table.c.id if table is t.companies else table.c.company_id
            query = query.where(scope == scope_company_id)
        return (await self._connection.execute(query)).first() is not None


__all__ = ["INVOICE_ID", "InvoiceOwner", "Invoices", "invoice_from_row", "with_lines"]
