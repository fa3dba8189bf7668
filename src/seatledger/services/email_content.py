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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
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
    kind: str  # the template: invitation, receipt, payment_failed, subscription_canceled
    to: str
    company_id: str | None
    seat_id: str | None
    content: Rendered
    link: str | None = None  # an invitation's claim link, kept apart from the content


@dataclass(frozen=True, slots=True)
class SeatNames:
    status: str
    company_id: str
    company: str
    product: str


async def seat_names(connection: AsyncConnection, seat_id: str) -> SeatNames | None:
    """A seat's status, company and product, in one query: the one place that knows how a seat
    reaches its product (its pool is a subscription or an order, under the same id, whose price
    names the product)."""
    s, sub, o, pr = t.seats, t.subscriptions, t.orders, t.prices
    joined = (
        s.join(t.companies, t.companies.c.id == s.c.company_id)
        .outerjoin(sub, sub.c.id == s.c.pool_id)
        .outerjoin(o, o.c.id == s.c.pool_id)
        .join(pr, pr.c.id == func.coalesce(sub.c.price_id, o.c.price_id))
        .join(t.products, t.products.c.id == pr.c.product_id)
    )
    query = (
        select(s.c.status, s.c.company_id, t.companies.c.name, t.products.c.name.label("product"))
        .select_from(joined)
        .where(s.c.id == seat_id)
    )
    row = (await connection.execute(query)).first()
    return None if row is None else SeatNames(row.status, row.company_id, row.name, row.product)


@dataclass(frozen=True, slots=True)
class Purchase:
    """Who hears of a purchase, and what it is called."""

    to: str | None  # the billing manager's email, else the owner's, else nobody
    company_id: str | None
    company: str
    product: str | None
    next_payment_attempt_at: datetime | None
    canceled_at: datetime | None = None  # a subscription's


async def _product_of_price(connection: AsyncConnection, price_id: str) -> str | None:
    query = (
        select(t.products.c.name)
        .select_from(t.prices.join(t.products, t.products.c.id == t.prices.c.product_id))
        .where(t.prices.c.id == price_id)
    )
    found = (await connection.execute(query)).scalar()
    return None if found is None else str(found)


async def _manager(connection: AsyncConnection, company_id: str) -> tuple[str, str] | None:
    m, c = t.members, t.companies
    query = (
        select(c.c.name, m.c.email)
        .select_from(c.outerjoin(m, (m.c.company_id == c.c.id) & (m.c.role == "billing_manager")))
        .where(c.c.id == company_id)
    )
    row = (await connection.execute(query)).first()
    return None if row is None else (row.name, row.email)


def _purchase_ref(event: OutboxEvent) -> tuple[Any, object]:
    """The table and id of the purchase an event is about: a subscription event's object is
    the subscription; an invoice names its ``subscription_id`` or ``order_id``."""
    payload = event.payload
    if event.type.startswith("subscription."):
        return t.subscriptions, payload.get("id")
    if payload.get("subscription_id"):
        return t.subscriptions, payload["subscription_id"]
    return t.orders, payload.get("order_id")


async def purchase_of(connection: AsyncConnection, event: OutboxEvent) -> Purchase:
    """The purchase an invoice or subscription event is about, with its company's billing
    manager."""
    payload = event.payload
    table, purchase_id = _purchase_ref(event)
    row = None
    if isinstance(purchase_id, str) and purchase_id:
        row = (await connection.execute(select(table).where(table.c.id == purchase_id))).first()
    company_id = payload.get("company_id") or (row.company_id if row is not None else None)
    manager = await _manager(connection, company_id) if company_id else None
    owner = row.owner_email if row is not None else None
    return Purchase(
        to=manager[1] if manager else owner,
        company_id=company_id if manager else None,
        company=manager[0] if manager else (owner or ""),
        product=await _product_of_price(connection, row.price_id) if row is not None else None,
        next_payment_attempt_at=getattr(row, "next_payment_attempt_at", None),
        canceled_at=getattr(row, "canceled_at", None),
    )


async def _failure_reason(connection: AsyncConnection, invoice_id: object) -> str | None:
    """Why the invoice's latest payment failed, as the payment provider said."""
    if not isinstance(invoice_id, str):
        return None
    reason = (
        await connection.execute(
            select(t.payments.c.failure_reason)
            .where(t.payments.c.invoice_id == invoice_id, t.payments.c.failure_reason.is_not(None))
            .order_by(t.payments.c.created_at.desc(), t.payments.c.id.desc())
            .limit(1)
        )
    ).scalar()
    return None if reason is None else str(reason)


def _when(value: object) -> str | None:
    """An instant of an event's payload (ISO 8601) in the one timestamp format."""
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, str) and value:
        return format_timestamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return None


async def invitation(rt: Runtime, connection: AsyncConnection, event: OutboxEvent) -> Draft | None:
    payload = event.payload
    url, seat_id = payload.get("url"), payload.get("seat_id")
    if not isinstance(url, str) or not isinstance(seat_id, str):
        return None  # already sent and scrubbed, or not an invitation this version writes
    names = await seat_names(connection, seat_id)
    if names is None or names.status != "pending":
        return None
    context = {
        "company": names.company,
        "product": names.product,
        "url": LINK_PLACEHOLDER,
        "expires_at": _when(payload.get("expires_at")),
        "to": payload["to"],
    }
    content = render("invitation", context, override=rt.settings.email_templates)
    return Draft("invitation", payload["to"], names.company_id, seat_id, content, link=url)


async def billing(rt: Runtime, connection: AsyncConnection, event: OutboxEvent) -> Draft | None:
    """The billing manager's email about an invoice or a subscription, if anyone is to hear."""
    kind = BILLING_KINDS[event.type]
    purchase = await purchase_of(connection, event)
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
        "reason": await _failure_reason(connection, invoice_id) if failed else None,
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


BILLING_KINDS = {
    "invoice.paid": "receipt",
    "invoice.payment_failed": "payment_failed",
    "subscription.canceled": "subscription_canceled",
}


__all__ = ["BILLING_KINDS", "LINK_PLACEHOLDER", "Draft", "SeatNames", "billing", "invitation"]
