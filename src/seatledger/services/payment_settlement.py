"""A payment that waited for the customer (3-D Secure) settles: the provider says how it ended.

A checkout's charge confirmed by API (its attempt recorded with the checkout, no invoice) is
settled by ``checkouts.confirmation.settle_waiting_charge``: paid, the checkout completes.

The invoice it was for is found by the payment's provider reference (the attempt recorded it,
``seatledger.services.collection``). Succeeded: the invoice is paid (once: a second settlement
finds it paid), the subscription recovers as after a payment by hand; money taken for an
invoice paid meanwhile becomes credit. Failed: the invoice's link is dropped (the customer can
no longer finish that payment); dunning goes on as scheduled.
"""

from __future__ import annotations

from seatledger.domain.events import EventType
from seatledger.domain.payments import PaymentSettled
from seatledger.services.checkouts.confirmation import settle_waiting_charge
from seatledger.services.collection import credit_leftover, payment_record
from seatledger.services.invoice_payments import recover_subscription
from seatledger.services.invoicing import emit_invoices
from seatledger.services.runtime import Runtime


async def settle_payment(rt: Runtime, fact: PaymentSettled) -> None:
    result = fact.result
    if result.reference is None:
        return
    now = rt.clock.now()
    async with rt.reading() as uow:
        checkout = await uow.payments.checkout_of(result.reference)
    if checkout is not None:
        await settle_waiting_charge(rt, *checkout, result)
        return
    async with rt.transaction() as uow:
        attempts = await uow.payments.attempts_of(result.reference)
        if not attempts or any(status == "succeeded" for _, status, _ in attempts):
            return  # not an invoice's waiting payment, or settled already
        invoice_id, _, first_method = attempts[0]
        invoice = await uow.invoices.get(invoice_id, lines=False)
        if invoice is None:
            return
        if not result.succeeded:
            await uow.invoices.drop_payment_url(invoice.id)
            await uow.commit()
            return
        method = result.payment_method or first_method
        await uow.payments.add([payment_record(rt, invoice, method, result, now)])
        if not await uow.invoices.mark_paid([invoice.id], now):
            await credit_leftover(uow, [invoice])
            await uow.commit()
            return
        await emit_invoices(uow, EventType.INVOICE_PAID, [invoice.id])
        if invoice.subscription_id is not None:
            subscription = await uow.subscriptions.find(invoice.subscription_id, lock=True)
            if subscription is not None and subscription.status != "canceled":
                await recover_subscription(uow, subscription, method)
        await uow.commit()


__all__ = ["settle_payment"]
