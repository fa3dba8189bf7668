"""Paying an open invoice by hand (``POST /v1/invoices/{id}/pay``), with the rules of
collection (``seatledger.services.collection``): no transaction is open while the payment
provider answers, and the charge's idempotency key counts the invoice's payment attempts.
"""

from __future__ import annotations

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import InvoiceNotOpen, NotFound, PaymentFailed
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.domain.purchase import Subscription, check_payment_method
from seatledger.services.collection import credit_leftover, customer_of, payment_record
from seatledger.services.invoicing import emit_invoices
from seatledger.services.runtime import Runtime


async def _invoice_of(uow: UnitOfWork, invoice_id: object, scope_company_id: str | None) -> Invoice:
    """The invoice (without its lines), else NotFound."""
    if isinstance(invoice_id, str):
        found = await uow.invoices.get(invoice_id, scope_company_id=scope_company_id, lines=False)
        if found is not None:
            return found
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
    async with rt.reading() as uow:
        paid = await uow.invoices.get(invoice.id)
    assert paid is not None  # invoices are never deleted
    return paid


async def _open_invoice(
    rt: Runtime, invoice_id: object, scope_company_id: str | None
) -> tuple[Invoice, Subscription | None, int]:
    """The open invoice, its subscription (if any) and how many payments it has seen."""
    async with rt.transaction() as uow:
        invoice = await _invoice_of(uow, invoice_id, scope_company_id)
        if invoice.status != "open":
            raise InvoiceNotOpen()
        subscription = None
        if invoice.subscription_id is not None:
            subscription = await uow.subscriptions.current(invoice.subscription_id)
        tries = await uow.payments.count_for(invoice.id)
    return invoice, subscription, tries


async def _settle(
    rt: Runtime,
    invoice: Invoice,
    subscription: Subscription | None,
    method: str,
    result: PaymentResult,
) -> None:
    """Record the charge's outcome: a decline raises ``PaymentFailed``; a charge for an invoice
    paid meanwhile becomes credit (``invoice_not_open``); otherwise the invoice is paid."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        if subscription is not None:
            subscription = (await uow.subscriptions.lock_all({subscription.id}))[subscription.id]
        await uow.payments.add([payment_record(rt, invoice, method, result, now)])
        if not result.succeeded:
            reason = result.failure_reason or "The payment was declined."
            await emit_invoices(uow, EventType.INVOICE_PAYMENT_FAILED, [invoice.id])
            await uow.commit()
            raise PaymentFailed(reason)
        if not await uow.invoices.mark_paid([invoice.id], now):
            await credit_leftover(uow, [invoice])
            await uow.commit()
            raise InvoiceNotOpen()
        await emit_invoices(uow, EventType.INVOICE_PAID, [invoice.id])
        if subscription is not None and subscription.status != "canceled":
            await recover_subscription(uow, subscription, method)
        await uow.commit()


async def recover_subscription(uow: UnitOfWork, row: Subscription, method: str) -> None:
    """The card that paid becomes the subscription's; with nothing left open it is active."""
    values: dict[str, object] = {"payment_method": method}
    if not await uow.invoices.with_open([row.id]):
        values.update(status="active", payment_attempts=0, past_due_since=None)
        values["next_payment_attempt_at"] = None
    updated = await uow.subscriptions.update(row.id, **values)
    if updated.status != row.status:
        uow.emit(EventType.SUBSCRIPTION_UPDATED, updated)


__all__ = ["pay_invoice", "recover_subscription"]
