"""Stripe's events, translated into the engine's neutral facts: a registry by event type.

Each translator reads the object the event is about again from Stripe (an event's snapshot may
be old: events arrive late, twice, or out of order) and answers the fact it stands for now, or
None when there is nothing to do. A new Stripe event type (the ``billing`` mode's subscription
and invoice events) is one more entry in ``TRANSLATORS``, and its fact one more applier in
``seatledger.services.provider_events.APPLIERS``.

    checkout.session.completed      → HostedPagePaid  (the session is paid now)
    payment_intent.succeeded        → PaymentSettled  (succeeded)
    payment_intent.payment_failed   → PaymentSettled  (failed, unless it has moved on since)
    customer.subscription.*         → ProviderSubscriptionChanged  (``billing`` mode)
    invoice.finalized/paid/payment_failed → ProviderInvoiceChanged  (``billing`` mode)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from seatledger.domain.payments import HostedPage, HostedPagePaid, PaymentResult, PaymentSettled
from seatledger.domain.provider_billing import ProviderInvoiceChanged, ProviderSubscriptionChanged


class StripeReader(Protocol):
    async def hosted_page(self, page_id: str) -> HostedPage: ...

    async def payment(self, reference: str) -> PaymentResult: ...


Translator = Callable[[StripeReader, dict[str, Any]], Awaitable[object | None]]


def _object_id(payload: dict[str, Any]) -> str:
    obj = payload.get("data", {}).get("object", {})
    object_id = obj.get("id") if isinstance(obj, dict) else None
    if not isinstance(object_id, str):
        raise ValueError("the event names no object")
    return object_id


async def checkout_session_completed(
    stripe: StripeReader, payload: dict[str, Any]
) -> HostedPagePaid | None:
    page = await stripe.hosted_page(_object_id(payload))
    if page.status != "paid" or page.checkout_id is None or page.result is None:
        return None
    return HostedPagePaid(page)


async def payment_intent_settled(
    stripe: StripeReader, payload: dict[str, Any]
) -> PaymentSettled | None:
    result = await stripe.payment(_object_id(payload))
    if not result.succeeded and result.action_url is not None:
        return None  # still waiting for the customer
    return PaymentSettled(result)


async def subscription_changed(
    stripe: StripeReader, payload: dict[str, Any]
) -> ProviderSubscriptionChanged:
    """``billing`` mode: the applier reads the subscription again (``services.provider_mirror``)."""
    del stripe
    return ProviderSubscriptionChanged(_object_id(payload))


async def invoice_changed(stripe: StripeReader, payload: dict[str, Any]) -> ProviderInvoiceChanged:
    """``billing`` mode: the applier reads the invoice again
    (``services.provider_invoice_mirror``)."""
    del stripe
    return ProviderInvoiceChanged(_object_id(payload))


TRANSLATORS: dict[str, Translator] = {
    "invoice.finalized": invoice_changed,
    "invoice.paid": invoice_changed,
    "invoice.payment_failed": invoice_changed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "checkout.session.completed": checkout_session_completed,
    "payment_intent.succeeded": payment_intent_settled,
    "payment_intent.payment_failed": payment_intent_settled,
}

__all__ = ["TRANSLATORS", "StripeReader", "Translator"]
