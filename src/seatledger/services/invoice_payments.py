"""Paying an open invoice by hand (``POST /v1/invoices/{id}/pay``), with the rules of
collection (``seatledger.services.collection``): no transaction is open while the payment
provider answers, and the charge's idempotency key counts the invoice's payment attempts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.invoices import invoice_from_row, with_lines
from seatledger.adapters.db.purchases import subscription_from_row
from seatledger.adapters.db.seat_pools import SUBSCRIPTION_COLUMNS
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import InvoiceNotOpen, NotFound, PaymentFailed
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.domain.purchase import check_payment_method
from seatledger.services.collection import credit_leftover, customer_of, mark_paid, payment_row
from seatledger.services.invoicing import emit_invoices
from seatledger.services.runtime import Runtime


async def _invoice_row(
    connection: AsyncConnection, invoice_id: object, scope_company_id: str | None
) -> Any:
    if isinstance(invoice_id, str):
        query = select(t.invoices).where(t.invoices.c.id == invoice_id)
        if scope_company_id is not None:
            query = query.where(t.invoices.c.company_id == scope_company_id)
        row = (await connection.execute(query)).first()
        if row is not None:
            return row
    raise NotFound("invoice")


async def pay_invoice(
    rt: Runtime, invoice_id: str, *, payment_method: str, scope_company_id: str | None = None
) -> Invoice:
    """Pay an open invoice now with ``payment_method``.

    A declined card is ``PaymentFailed`` (the attempt is recorded, the invoice stays open); a
    method the provider does not know is ``ValidationFailed`` (``payment_method``), and nothing
    is written; a paid or void invoice is ``invoice_not_open``. When the subscription's last
    open invoice is paid, a ``past_due`` subscription is ``active`` again and its retries stop;
    the card becomes the subscription's payment method for later renewals (a canceled
    subscription stays canceled). The charge's idempotency key counts the invoice's payment
    attempts, so a retry after a crash sends the same key and is never charged twice.
    """
    method = check_payment_method(payment_method)
    rt.gateway.check_payment_method(method)  # a typo is not a decline: nothing happens
    invoice, subscription, tries = await _open_invoice(rt, invoice_id, scope_company_id)
    customer = customer_of(subscription) if subscription is not None else str(invoice.company_id)
    result = await rt.charge(
        PaymentRequest(
            amount=invoice.total,
            currency=invoice.currency,
            payment_method=method,
            customer=customer,
            description=f"Invoice {invoice.number}",
            idempotency_key=f"invoice:{invoice.id}:payment:{tries + 1}",
        )
    )
    await _settle(rt, invoice, subscription, method, result)
    (paid,) = await with_lines_of(rt, invoice.id)
    return paid


async def _open_invoice(
    rt: Runtime, invoice_id: object, scope_company_id: str | None
) -> tuple[Invoice, Any | None, int]:
    """The open invoice, its subscription's row (if any) and how many payments it has seen."""
    async with rt.transaction() as uow:
        connection = uow.connection
        row = await _invoice_row(connection, invoice_id, scope_company_id)
        if row.status != "open":
            raise InvoiceNotOpen()
        subscription = None
        if row.subscription_id is not None:
            subscription = (
                await connection.execute(
                    select(*SUBSCRIPTION_COLUMNS).where(t.subscriptions.c.id == row.subscription_id)
                )
            ).one()
        tries = (
            await connection.execute(
                select(func.count())
                .select_from(t.payments)
                .where(t.payments.c.invoice_id == row.id)
            )
        ).scalar_one()
    return invoice_from_row(row), subscription, int(tries)


async def _settle(
    rt: Runtime, invoice: Invoice, subscription: Any | None, method: str, result: PaymentResult
) -> None:
    """Record the charge's outcome: a decline raises ``PaymentFailed``; a charge for an invoice
    paid meanwhile becomes credit (``invoice_not_open``); otherwise the invoice is paid."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        connection = uow.connection
        if subscription is not None:
            subscription = (
                await connection.execute(
                    select(*SUBSCRIPTION_COLUMNS)
                    .where(t.subscriptions.c.id == subscription.id)
                    .with_for_update()
                )
            ).one()
        await connection.execute(
            insert(t.payments).values(payment_row(rt, invoice, method, result, now))
        )
        if not result.succeeded:
            reason = result.failure_reason or "The payment was declined."
            await emit_invoices(uow, EventType.INVOICE_PAYMENT_FAILED, [invoice.id])
            await uow.commit()
            raise PaymentFailed(reason)
        if not await mark_paid(connection, [invoice.id], now):
            await credit_leftover(uow, [invoice])
            await uow.commit()
            raise InvoiceNotOpen()
        await emit_invoices(uow, EventType.INVOICE_PAID, [invoice.id])
        if subscription is not None and subscription.status != "canceled":
            await recover_subscription(uow, connection, subscription, method)
        await uow.commit()


async def recover_subscription(
    uow: UnitOfWork, connection: AsyncConnection, row: Any, method: str
) -> None:
    """The card that paid becomes the subscription's; with nothing left open it is active."""
    still_open = (
        await connection.execute(
            select(func.count())
            .select_from(t.invoices)
            .where(t.invoices.c.subscription_id == row.id, t.invoices.c.status == "open")
        )
    ).scalar_one()
    values: dict[str, Any] = {"payment_method": method}
    if not still_open:
        values.update(status="active", payment_attempts=0, past_due_since=None)
        values["next_payment_attempt_at"] = None
    updated = (
        await connection.execute(
            update(t.subscriptions)
            .where(t.subscriptions.c.id == row.id)
            .values(**values)
            .returning(*SUBSCRIPTION_COLUMNS)
        )
    ).one()
    if updated.status != row.status:
        uow.emit(EventType.SUBSCRIPTION_UPDATED, subscription_from_row(updated))


async def with_lines_of(rt: Runtime, invoice_id: str) -> list[Invoice]:
    async with rt.reading() as uow:
        rows = (
            await uow.connection.execute(select(t.invoices).where(t.invoices.c.id == invoice_id))
        ).all()
        return await with_lines(uow.connection, rows)


__all__ = ["pay_invoice", "recover_subscription"]
