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
from typing import cast

from seatledger.adapters.db.invoices import INVOICE_ID, InvoiceOwner
from seatledger.adapters.db.paging import paginating
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
    apply_balance,
    invoice_number,
    totals,
)
from seatledger.services.credit import add_to_balances, read_balances
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime


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


def _invoice_of(draft: InvoiceDraft, number: str | None, now: datetime) -> Invoice:
    subtotal, total = totals(draft.lines, draft.credit_applied)
    return Invoice(
        id=new_id("inv"),
        number=number,
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
        finalized_at=now if number is not None else None,
        paid_at=now if draft.status == "paid" else None,
    )


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


async def create_invoice_with_credit(
    uow: UnitOfWork,
    *,
    now: datetime,
    company_id: str | None,
    subscription_id: str,
    currency: str,
    lines: Sequence[InvoiceLine],
    reason: InvoiceReason,
    period_start: datetime,
    period_end: datetime,
) -> Invoice:
    """An invoice of ``lines`` that the company's credit balance pays what it can of: the
    balance read locked, then moved by what the invoice took or (a net credit) gave; ``open``
    while something is left to pay, ``paid`` otherwise. Without a company there is no balance."""
    subtotal = sum(line.amount for line in lines)
    key = None if company_id is None else (company_id, currency)
    balance = 0 if key is None else (await read_balances(uow, [key]))[key]
    credit_applied, after = apply_balance(subtotal, balance)
    invoice = await create_invoice(
        uow,
        now=now,
        company_id=company_id,
        subscription_id=subscription_id,
        currency=currency,
        lines=lines,
        status="open" if subtotal - credit_applied > 0 else "paid",
        reason=reason,
        period_start=period_start,
        period_end=period_end,
        credit_applied=credit_applied,
    )
    if key is not None:
        await add_to_balances(uow, {key: after - balance})
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
    finalised = sum(1 for draft in drafts if draft.status in FINALISED)
    number = await uow.invoices.reserve_numbers(finalised) if finalised else 0
    invoices: list[Invoice] = []
    for draft in drafts:
        is_final = draft.status in FINALISED
        if is_final:
            number += 1
        invoices.append(_invoice_of(draft, invoice_number(number) if is_final else None, now))
    await uow.invoices.add(invoices)
    for invoice in invoices:
        if invoice.status == "paid":
            uow.emit(EventType.INVOICE_PAID, invoice)
        elif invoice.status == "open":
            uow.emit("invoice.finalized", invoice)
    return invoices


# -- reading --------------------------------------------------------------------------------------


async def emit_invoices(uow: UnitOfWork, event_type: EventType, invoice_ids: list[str]) -> None:
    """Emit ``event_type`` for each invoice, as this transaction sees it now, with its lines:
    the event shows the invoice as ``GET /v1/invoices/{id}`` answers it after the commit."""
    if not invoice_ids:
        return
    by_id = await uow.invoices.by_ids(invoice_ids)
    for invoice_id in invoice_ids:
        uow.emit(event_type, by_id[invoice_id])


async def get_invoice(
    rt: Runtime, invoice_id: str, *, scope_company_id: str | None = None
) -> Invoice:
    if not isinstance(invoice_id, str):
        raise NotFound("invoice")
    async with rt.reading() as uow:
        invoice = await uow.invoices.get(invoice_id, scope_company_id=scope_company_id)
    if invoice is None:
        raise NotFound("invoice")
    return invoice


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
    given: tuple[tuple[InvoiceOwner, str, object], ...] = (
        ("company_id", "company", company_id),
        ("subscription_id", "subscription", subscription_id),
        ("order_id", "order", order_id),
    )
    filters = [(field, noun, value) for field, noun, value in given if value is not None]
    if len(filters) > 1:
        raise ValidationFailed.field(
            "company_id", "give at most one of company_id, subscription_id or order_id"
        )
    size = check_limit(limit)
    async with rt.reading() as uow:
        invoices_of = uow.invoices
        query = invoices_of.query(scope_company_id=scope_company_id)
        if filters:
            ((field, noun, value),) = filters
            if not await invoices_of.owner_exists(field, value, scope_company_id):
                raise NotFound(noun, field=field)
            query = invoices_of.query(owner=field, owner_id=cast(str, value))
        page = paginating(cursor, size, newest_first=not filters)(query, INVOICE_ID)
        invoices = await invoices_of.read(page)
    return page_of(invoices, [invoice.id for invoice in invoices], size)


__all__ = [
    "InvoiceDraft",
    "create_invoice",
    "create_invoices",
    "emit_invoices",
    "get_invoice",
    "list_invoices",
]
