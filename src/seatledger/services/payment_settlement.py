"""A payment that waited for the customer (3-D Secure) settles: the provider says how it ended.

The invoice it was for is found by the payment's provider reference (the attempt recorded it,
``seatledger.services.collection``). Succeeded: the invoice is paid (once: a second settlement
finds it paid), the subscription recovers as after a payment by hand; money taken for an
invoice paid meanwhile becomes credit. Failed: the invoice's link is dropped (the customer can
no longer finish that payment); dunning goes on as scheduled.
"""

from __future__ import annotations

from sqlalchemy import select, update

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.invoices import invoice_from_row
from seatledger.adapters.db.seat_pools import SUBSCRIPTION_COLUMNS
from seatledger.domain.events import EventType
from seatledger.domain.payments import PaymentSettled
from seatledger.services.collection import credit_leftover, mark_paid, payment_row
from seatledger.services.invoice_payments import recover_subscription
from seatledger.services.invoicing import emit_invoices
from seatledger.services.runtime import Runtime


async def settle_payment(rt: Runtime, fact: PaymentSettled) -> None:
    result = fact.result
    if result.reference is None:
        return
    payments = t.payments
    now = rt.clock.now()
    async with rt.transaction() as uow:
        connection = uow.connection
        attempts = (
            await connection.execute(
                select(payments.c.invoice_id, payments.c.status, payments.c.payment_method)
                .where(
                    payments.c.provider_reference == result.reference,
                    payments.c.invoice_id.is_not(None),
                )
                .order_by(payments.c.created_at)
            )
        ).all()
        if not attempts or any(a.status == "succeeded" for a in attempts):
            return  # not an invoice's waiting payment, or settled already
        invoice_row = (
            await connection.execute(
                select(t.invoices).where(t.invoices.c.id == attempts[0].invoice_id)
            )
        ).one()
        invoice = invoice_from_row(invoice_row)
        if not result.succeeded:
            await connection.execute(
                update(t.invoices).where(t.invoices.c.id == invoice.id).values(payment_url=None)
            )
            await uow.commit()
            return
        method = result.payment_method or attempts[0].payment_method
        await connection.execute(
            t.payments.insert().values(payment_row(rt, invoice, method, result, now))
        )
        if not await mark_paid(connection, [invoice.id], now):
            await credit_leftover(uow, [invoice])
            await uow.commit()
            return
        await emit_invoices(uow, EventType.INVOICE_PAID, [invoice.id])
        if invoice.subscription_id is not None:
            subscription = (
                await connection.execute(
                    select(*SUBSCRIPTION_COLUMNS)
                    .where(t.subscriptions.c.id == invoice.subscription_id)
                    .with_for_update()
                )
            ).one()
            if subscription.status != "canceled":
                await recover_subscription(uow, connection, subscription, method)
        await uow.commit()


__all__ = ["settle_payment"]
