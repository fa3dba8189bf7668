"""Invoices: written inside the use case that causes them, read on their own.

``create_invoice`` never opens or commits a transaction: a purchase, a renewal or a change
writes its invoice in its own unit of work, so the invoice exists exactly when the change does.
A finalised invoice (``open`` or ``paid``) takes the next number of one gapless sequence: the
single ``invoice_sequence`` row is incremented in that same transaction, so a rollback gives
the number back and concurrent finalisations queue on the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.bulk import insert_rows
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.invoice import (
    FINALISED,
    Invoice,
    InvoiceLine,
    InvoiceReason,
    InvoiceStatus,
    invoice_number,
    totals,
)
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime


async def reserve_invoice_numbers(connection: AsyncConnection, count: int) -> int:
    """Take ``count`` consecutive numbers; answers the last number before them."""
    last = (
        await connection.execute(
            update(t.invoice_sequence)
            .where(t.invoice_sequence.c.id == 1)
            .values(last_number=t.invoice_sequence.c.last_number + count)
            .returning(t.invoice_sequence.c.last_number)
        )
    ).scalar_one()
    return int(last) - count


async def next_invoice_number(connection: AsyncConnection) -> str:
    return invoice_number(await reserve_invoice_numbers(connection, 1) + 1)


@dataclass(frozen=True, slots=True)
class InvoiceDraft:
    """An invoice to write: what ``create_invoice`` takes, for writing many at once."""

    company_id: str | None
    currency: str
    lines: Sequence[InvoiceLine]
    status: InvoiceStatus
    reason: InvoiceReason
    subscription_id: str | None = None
    order_id: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    credit_applied: int = 0


async def create_invoice(
    uow: UnitOfWork,
    *,
    now: datetime,
    company_id: str | None,
    subscription_id: str | None = None,
    order_id: str | None = None,
    currency: str,
    lines: Sequence[InvoiceLine],
    status: InvoiceStatus,
    reason: InvoiceReason,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    credit_applied: int = 0,
) -> Invoice:
    """Write an invoice and its lines in the caller's unit of work (no commit).

    ``status`` is ``draft`` (no number yet), ``open`` (finalised, awaiting payment) or ``paid``
    (finalised and paid at ``now``). Emits ``invoice.finalized`` for an open invoice and
    ``invoice.paid`` for a paid one. ``credit_applied`` must lie within ``[0, subtotal]``.
    """
    draft = InvoiceDraft(
        company_id=company_id,
        subscription_id=subscription_id,
        order_id=order_id,
        currency=currency,
        lines=lines,
        status=status,
        reason=reason,
        period_start=period_start,
        period_end=period_end,
        credit_applied=credit_applied,
    )
    (invoice,) = await create_invoices(uow, [draft], now=now)
    return invoice


async def create_invoices(
    uow: UnitOfWork, drafts: Sequence[InvoiceDraft], *, now: datetime
) -> list[Invoice]:
    """``create_invoice`` for many invoices at once: the finalised ones take consecutive
    numbers in the order given (one ``UPDATE`` of the sequence), then one batched ``INSERT``
    for the invoices and one for all their lines."""
    for draft in drafts:
        if draft.status not in ("draft", "open", "paid"):
            raise ValueError(f"an invoice is created draft, open or paid, not {draft.status!r}")
    connection = uow.connection
    finalised = sum(1 for draft in drafts if draft.status in FINALISED)
    number = await reserve_invoice_numbers(connection, finalised) if finalised else 0
    invoices: list[Invoice] = []
    for draft in drafts:
        subtotal, total = totals(draft.lines, draft.credit_applied)
        is_final = draft.status in FINALISED
        if is_final:
            number += 1
        invoices.append(
            Invoice(
                id=new_id("inv"),
                number=invoice_number(number) if is_final else None,
                company_id=draft.company_id,
                subscription_id=draft.subscription_id,
                order_id=draft.order_id,
                status=draft.status,
                reason=draft.reason,
                currency=draft.currency,
                subtotal=subtotal,
                credit_applied=draft.credit_applied,
                total=total,
                period_start=draft.period_start,
                period_end=draft.period_end,
                lines=tuple(draft.lines),
                created_at=now,
                finalized_at=now if is_final else None,
                paid_at=now if draft.status == "paid" else None,
            )
        )
    if not invoices:
        return invoices
    await insert_rows(
        connection,
        t.invoices,
        [
            {
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
                "created_at": now,
                "finalized_at": invoice.finalized_at,
                "paid_at": invoice.paid_at,
            }
            for invoice in invoices
        ],
    )
    line_rows = [
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
    if line_rows:
        await insert_rows(connection, t.invoice_lines, line_rows)
    for invoice in invoices:
        if invoice.status == "paid":
            uow.emit(EventType.INVOICE_PAID, invoice)
        elif invoice.status == "open":
            uow.emit("invoice.finalized", invoice)
    return invoices


# -- reading --------------------------------------------------------------------------------------


def _line_from_row(row: Any) -> InvoiceLine:
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
    )


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
        lines[line.invoice_id].append(_line_from_row(line))
    return [invoice_from_row(row, lines[row.id]) for row in rows]


async def emit_invoices(uow: UnitOfWork, event_type: EventType, invoice_ids: list[str]) -> None:
    """Emit ``event_type`` for each invoice, as this transaction sees it now, with its lines:
    the event shows the invoice as ``GET /v1/invoices/{id}`` answers it after the commit."""
    if not invoice_ids:
        return
    rows = (
        await uow.connection.execute(select(t.invoices).where(t.invoices.c.id.in_(invoice_ids)))
    ).all()
    by_id = {invoice.id: invoice for invoice in await with_lines(uow.connection, rows)}
    for invoice_id in invoice_ids:
        uow.emit(event_type, by_id[invoice_id])


async def get_invoice(
    rt: Runtime, invoice_id: str, *, scope_company_id: str | None = None
) -> Invoice:
    if not isinstance(invoice_id, str):
        raise NotFound("invoice")
    query = select(t.invoices).where(t.invoices.c.id == invoice_id)
    if scope_company_id is not None:
        query = query.where(t.invoices.c.company_id == scope_company_id)
    async with rt.reading() as uow:
        row = (await uow.connection.execute(query)).first()
        if row is None:
            raise NotFound("invoice")
        (invoice,) = await with_lines(uow.connection, [row])
    return invoice


async def _require(
    connection: AsyncConnection,
    table: Table,
    noun: str,
    field: str,
    value: object,
    scope_company_id: str | None,
) -> None:
    if isinstance(value, str):
        query = select(table.c.id).where(table.c.id == value)
        if scope_company_id is not None:
            scope = table.c.id if table is t.companies else table.c.company_id
            query = query.where(scope == scope_company_id)
        if (await connection.execute(query)).first() is not None:
            return
    raise NotFound(noun, field=field)


async def list_invoices(
    rt: Runtime,
    *,
    company_id: str | None = None,
    subscription_id: str | None = None,
    order_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> Page[Invoice]:
    """The invoices of one company, subscription or order (at most one filter), oldest first;
    without a filter, every invoice (of ``scope_company_id`` when given), newest first."""
    filters = [
        (field, table, noun, value)
        for field, table, noun, value in (
            ("company_id", t.companies, "company", company_id),
            ("subscription_id", t.subscriptions, "subscription", subscription_id),
            ("order_id", t.orders, "order", order_id),
        )
        if value is not None
    ]
    if len(filters) > 1:
        raise ValidationFailed.field(
            "company_id", "give at most one of company_id, subscription_id or order_id"
        )
    size = check_limit(limit)
    async with rt.reading() as uow:
        connection = uow.connection
        query = select(t.invoices)
        if filters:
            ((field, table, noun, value),) = filters
            await _require(connection, table, noun, field, value, scope_company_id)
            query = query.where(t.invoices.c[field] == value)
        elif scope_company_id is not None:
            query = query.where(t.invoices.c.company_id == scope_company_id)
        page = paginate(query, t.invoices.c.id, cursor, size, newest_first=not filters)
        rows = (await connection.execute(page)).all()
        invoices = await with_lines(connection, rows)
    return page_of(invoices, [invoice.id for invoice in invoices], size)


__all__ = [
    "InvoiceDraft",
    "create_invoice",
    "create_invoices",
    "emit_invoices",
    "get_invoice",
    "invoice_from_row",
    "list_invoices",
    "next_invoice_number",
    "reserve_invoice_numbers",
    "with_lines",
]
