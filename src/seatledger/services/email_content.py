"""What each outbox event says by email, and to whom (SPEC §10): the drafts the emails channel
stores.

* ``invitation.email`` → ``invitation`` to the seat's email, naming the company and the
  product, with the claim link (as ``LINK_PLACEHOLDER``; the link itself rides beside the
  draft, see ``seatledger.services.emails``) and its expiry. None once the seat is no longer
  pending: its link is dead.
* ``invoice.paid`` → ``receipt``; ``invoice.payment_failed`` → ``payment_failed`` with the pay
  link and the date of the next try when the subscription has one; ``subscription.canceled``
  → ``subscription_canceled``. Each goes to the company's billing manager; for a purchase not
  attached to a company yet, to its owner's email.
* ``seat.usage_threshold_reached`` → ``seat_usage`` to the company's billing manager: "Acme is
  using 8 of 10 seats of Team plan (80%)".

Events carry their object as the API answers it (``seatledger.domain.events``): an invoice event
its invoice (``id``, ``subscription_id`` | ``order_id``, ``number``, ``total``, …), a
subscription event its subscription (``id``). What the object does not show (why a payment
failed, when a subscription was canceled) is read from the database.

Amounts are shown in the currency's minor units (``pricing.money.format_amount``), instants
in the one timestamp format (``domain.clock.format_timestamp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from seatledger.adapters.db.email_facts import Purchase, PurchaseKind, SeatNames
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.adapters.mail.rendering import Rendered, render
from seatledger.domain.clock import format_timestamp
from seatledger.domain.events import OutboxEvent
from seatledger.pricing.money import format_amount
from seatledger.services.runtime import Runtime

# Where an invitation's claim link goes in a stored email: replaced by the link when it is sent
# (or shown to the merchant while the seat is pending), and shown as it is otherwise.
LINK_PLACEHOLDER = "[invitation link]"


@dataclass(frozen=True, slots=True)
class Draft:
    kind: str  # the template: invitation, receipt, payment_failed, subscription_canceled, …
    to: str
    company_id: str | None
    seat_id: str | None
    content: Rendered
    link: str | None = None  # an invitation's claim link, kept apart from the content


def _purchase_ref(event: OutboxEvent) -> tuple[PurchaseKind, object]:
    """The kind and id of the purchase an event is about: a subscription event's object is
    the subscription; an invoice names its ``subscription_id`` or ``order_id``."""
    payload = event.payload
    if event.type.startswith("subscription."):
        return "subscription", payload.get("id")
    if payload.get("subscription_id"):
        return "subscription", payload["subscription_id"]
    return "order", payload.get("order_id")


async def purchase_of(uow: UnitOfWork, event: OutboxEvent) -> Purchase:
    """The purchase an invoice or subscription event is about, with its company's billing
    manager."""
    kind, purchase_id = _purchase_ref(event)
    return await uow.email_facts.purchase(kind, purchase_id, event.payload.get("company_id"))


async def _failure_reason(uow: UnitOfWork, invoice_id: object) -> str | None:
    """Why the invoice's latest payment failed, as the payment provider said."""
    if not isinstance(invoice_id, str):
        return None
    return await uow.email_facts.failure_reason(invoice_id)


def _when(value: object) -> str | None:
    """An instant of an event's payload (ISO 8601) in the one timestamp format."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, str) and value:
        return format_timestamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return None


def invited_seat(event: OutboxEvent) -> str | None:
    """The seat an ``invitation.email`` event still invites to, or None when it carries no
    link (already sent and scrubbed, or not an invitation this version writes)."""
    payload = event.payload
    url, seat_id = payload.get("url"), payload.get("seat_id")
    return seat_id if isinstance(url, str) and isinstance(seat_id, str) else None


def invitation_of(rt: Runtime, event: OutboxEvent, names: SeatNames | None) -> Draft | None:
    """The invitation's draft from its seat's names, read beforehand (None: no such seat, or
    it is no longer pending, so its link is dead)."""
    seat_id = invited_seat(event)
    if seat_id is None or names is None or names.status != "pending":
        return None
    payload = event.payload
    context = {
        "company": names.company,
        "product": names.product,
        "url": LINK_PLACEHOLDER,
        "expires_at": _when(payload.get("expires_at")),
        "to": payload["to"],
    }
    content = render("invitation", context, override=rt.settings.email_templates)
    return Draft(
        "invitation", payload["to"], names.company_id, seat_id, content, link=payload["url"]
    )


async def billing(rt: Runtime, uow: UnitOfWork, event: OutboxEvent) -> Draft | None:
    """The billing manager's email about an invoice or a subscription, if anyone is to hear."""
    kind = BILLING_KINDS[event.type]
    purchase = await purchase_of(uow, event)
    if purchase.to is None:
        return None
    payload = event.payload
    invoice_id = payload.get("id") if event.type.startswith("invoice.") else None
    failed = kind == "payment_failed"
    context: dict[str, Any] = {
        "company": purchase.company,
        "product": purchase.product,
        "invoice_id": invoice_id,
        "invoice_number": payload.get("number"),
        "reason": await _failure_reason(uow, invoice_id) if failed else None,
        "paid_at": format_timestamp(event.created_at),
        "canceled_at": _when(purchase.canceled_at) or format_timestamp(event.created_at),
        "pay_url": f"{rt.settings.public_url}/portal",
        "next_attempt_at": _when(purchase.next_payment_attempt_at),
        "period_start": _when(payload.get("period_start")),
        "period_end": _when(payload.get("period_end")),
    }
    if isinstance(payload.get("total"), int) and isinstance(payload.get("currency"), str):
        context["amount"] = format_amount(payload["total"], payload["currency"])
    content = render(kind, context, override=rt.settings.email_templates)
    return Draft(kind, purchase.to, purchase.company_id, None, content)


async def seat_usage(rt: Runtime, uow: UnitOfWork, event: OutboxEvent) -> Draft | None:
    """The billing manager's email about a seat alert's threshold reached."""
    payload = event.payload
    company_id, product_id = payload.get("company_id"), payload.get("product_id")
    if not isinstance(company_id, str) or not isinstance(product_id, str):
        return None
    names = await uow.email_facts.usage_names(company_id, product_id)
    if names is None:
        return None
    company, to, product = names
    if to is None:
        return None  # a company without a billing manager: no one to tell
    context = {
        "company": company,
        "product": product,
        "used": payload.get("used"),
        "limit": payload.get("limit"),
        "threshold": payload.get("threshold"),
    }
    content = render("seat_usage", context, override=rt.settings.email_templates)
    return Draft("seat_usage", to, company_id, None, content)


BILLING_KINDS = {
    "invoice.paid": "receipt",
    "invoice.payment_failed": "payment_failed",
    "subscription.canceled": "subscription_canceled",
}


__all__ = [
    "BILLING_KINDS",
    "LINK_PLACEHOLDER",
    "Draft",
    "SeatNames",
    "billing",
    "invitation_of",
    "invited_seat",
    "seat_usage",
]
