"""Invoices of subscriptions: made by ``subscriptions`` (the first period, and prorations billed
at once), retrieved and listed here.

An invoice is finalized and paid at once when the customer's card pays (``invoice.finalized``,
``invoice.paid``); with a declining customer (``Store.declining``) it stays ``open`` with
``invoice.payment_failed``. Lines carry the amount Stripe would bill: a period line is
``prices.amount(price, quantity)``; a proration line is the difference of two such amounts
times the unused part of the period, rounded half-even to the minor unit.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import list_object


def make(
    store: Store, subscription: dict[str, Any], lines: list[dict[str, Any]], reason: str
) -> dict[str, Any]:
    """A finalized invoice of ``lines`` for ``subscription``, paid unless the customer's card
    declines; the events Stripe sends for it are emitted."""
    customer = subscription["customer"]
    total = sum(line["amount"] for line in lines)
    first = subscription["items"]["data"][0]
    paid = customer not in store.declining or total <= 0
    invoice_id = store.new_id("in")
    invoice = store.put(
        {
            "id": invoice_id,
            "object": "invoice",
            "customer": customer,
            # API versions from 2025 on name the subscription under ``parent``.
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription["id"]},
            },
            "billing_reason": reason,
            "number": f"FAKE-{len(store.objects):04d}",
            "currency": subscription["currency"],
            "lines": list_object("/v1/invoices/lines", lines),
            "subtotal": total,
            "total": total,
            "amount_due": max(0, total),
            "amount_paid": max(0, total) if paid else 0,
            "status": "paid" if paid else "open",
            "status_transitions": {
                "finalized_at": store.now(),
                "paid_at": store.now() if paid else None,
            },
            "hosted_invoice_url": f"{store.base_url}/_fake/invoice/{invoice_id}",
            "period_start": first["current_period_start"],
            "period_end": first["current_period_end"],
            "created": store.now(),
            "livemode": False,
        }
    )
    store.emit("invoice.finalized", invoice)
    store.emit("invoice.paid" if paid else "invoice.payment_failed", invoice)
    return invoice


def subscription_of(invoice: dict[str, Any]) -> str:
    return str(invoice["parent"]["subscription_details"]["subscription"])


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return store.get("invoice", path["id"])


def list_invoices(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    found = [
        obj
        for obj in store.objects.values()
        if obj["object"] == "invoice" and params.get("subscription") in (None, obj["subscription"])
    ]
    return list_object("/v1/invoices", found)


ROUTES = [
    ("GET", "/v1/invoices/{id}", retrieve),
    ("GET", "/v1/invoices", list_invoices),
]
