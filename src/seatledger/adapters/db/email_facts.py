"""What an email says that its event does not: a seat's company and product, a purchase's
billing manager and product, why a payment failed. Read by the delivery loop when it writes the
emails of an event (``seatledger.services.email_content``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t

PurchaseKind = Literal["subscription", "order"]


@dataclass(frozen=True, slots=True)
class SeatNames:
    status: str
    company_id: str
    company: str
    product: str


@dataclass(frozen=True, slots=True)
class Purchase:
    """Who hears of a purchase, and what it is called."""

    to: str | None  # the billing manager's email, else the owner's, else nobody
    company_id: str | None
    company: str
    product: str | None
    next_payment_attempt_at: datetime | None
    canceled_at: datetime | None = None  # a subscription's


def _seats_names() -> Select[Any]:
    s, sub, o, pr = t.seats, t.subscriptions, t.orders, t.prices
    joined = (
        s.join(t.companies, t.companies.c.id == s.c.company_id)
        .outerjoin(sub, sub.c.id == s.c.pool_id)
        .outerjoin(o, o.c.id == s.c.pool_id)
        .join(pr, pr.c.id == func.coalesce(sub.c.price_id, o.c.price_id))
        .join(t.products, t.products.c.id == pr.c.product_id)
    )
    return (
        select(
            s.c.id,
            s.c.status,
            s.c.company_id,
            t.companies.c.name,
            t.products.c.name.label("product"),
        )
        .select_from(joined)
        .where(s.c.id.in_(bindparam("seat_ids", expanding=True)))
    )


# Built once: the delivery loop reads a batch's seats with it, and building the statement per
# batch cost more CPU than running it.
_SEATS_NAMES = _seats_names()


class EmailFacts:
    """The facts of emails, on one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def seats_names(self, seat_ids: Sequence[str]) -> dict[str, SeatNames]:
        """Seats' status, company and product, by seat id, in one query (a delivery batch's
        invitations): the one place that knows how a seat reaches its product (its pool is a
        subscription or an order, under the same id, whose price names the product). A seat
        that does not exist is left out."""
        if not seat_ids:
            return {}
        rows = await self._connection.execute(_SEATS_NAMES, {"seat_ids": list(seat_ids)})
        return {
            row.id: SeatNames(row.status, row.company_id, row.name, row.product) for row in rows
        }

    async def purchase(
        self, kind: PurchaseKind, purchase_id: object, company_id: str | None
    ) -> Purchase:
        """The subscription or order (when ``purchase_id`` names one) with its company's
        billing manager (``company_id``, else the purchase's company)."""
        table = t.subscriptions if kind == "subscription" else t.orders
        row = None
        if isinstance(purchase_id, str) and purchase_id:
            query = select(table).where(table.c.id == purchase_id)
            row = (await self._connection.execute(query)).first()
        company_id = company_id or (row.company_id if row is not None else None)
        manager = await self._manager(company_id) if company_id else None
        owner = row.owner_email if row is not None else None
        return Purchase(
            to=manager[1] if manager else owner,
            company_id=company_id if manager else None,
            company=manager[0] if manager else (owner or ""),
            product=await self._product_of_price(row.price_id) if row is not None else None,
            next_payment_attempt_at=getattr(row, "next_payment_attempt_at", None),
            canceled_at=getattr(row, "canceled_at", None),
        )

    async def _product_of_price(self, price_id: str) -> str | None:
        query = (
            select(t.products.c.name)
            .select_from(t.prices.join(t.products, t.products.c.id == t.prices.c.product_id))
            .where(t.prices.c.id == price_id)
        )
        found = (await self._connection.execute(query)).scalar()
        return None if found is None else str(found)

    async def _manager(self, company_id: str) -> tuple[str, str] | None:
        m, c = t.members, t.companies
        query = (
            select(c.c.name, m.c.email)
            .select_from(
                c.outerjoin(m, (m.c.company_id == c.c.id) & (m.c.role == "billing_manager"))
            )
            .where(c.c.id == company_id)
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else (row.name, row.email)

    async def usage_names(
        self, company_id: str, product_id: str
    ) -> tuple[str, str | None, str] | None:
        """The company's name, its billing manager's email and the product's name (a seat
        alert's email); None when either is gone."""
        manager = await self._manager(company_id)
        product = (
            await self._connection.execute(
                select(t.products.c.name).where(t.products.c.id == product_id)
            )
        ).scalar()
        if manager is None or product is None:
            return None
        return manager[0], manager[1], str(product)

    async def failure_reason(self, invoice_id: str) -> str | None:
        """Why the invoice's latest payment failed, as the payment provider said."""
        payments = t.payments
        reason = (
            await self._connection.execute(
                select(payments.c.failure_reason)
                .where(payments.c.invoice_id == invoice_id, payments.c.failure_reason.is_not(None))
                .order_by(payments.c.created_at.desc(), payments.c.id.desc())
                .limit(1)
            )
        ).scalar()
        return None if reason is None else str(reason)


__all__ = ["EmailFacts", "Purchase", "PurchaseKind", "SeatNames"]
