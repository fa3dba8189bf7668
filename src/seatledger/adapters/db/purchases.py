"""Subscriptions and orders in the database: their rows read with their pool's counts
(``seat_pools.counted``) as the domain's ``Subscription`` and ``Order``
(``seatledger.domain.purchase``).

A subscription's pending change is stored as JSON (``pending_change_json``); its
``effective_at`` comes back as an ISO string on SQLite and is parsed here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import counted
from seatledger.domain.purchase import Order, PendingChange, Subscription

P = TypeVar("P", Subscription, Order)
# How a list is paged: the query and its id column in, the page's query out
# (``seatledger.adapters.db.paging.paginating`` with the caller's cursor and size).
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]


def _pending_change(value: Any) -> PendingChange | None:
    if not value:
        return None
    effective_at = value["effective_at"]
    if isinstance(effective_at, str):
        effective_at = datetime.fromisoformat(effective_at)
    return PendingChange(
        seats=int(value["seats"]), price_id=str(value["price_id"]), effective_at=effective_at
    )


def pending_change_json(change: PendingChange) -> dict[str, Any]:
    """A pending change as stored (``subscriptions.pending_change``) and as events carry it."""
    return {
        "seats": change.seats,
        "price_id": change.price_id,
        "effective_at": change.effective_at.isoformat(),
    }


def subscription_from_row(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        company_id=row.company_id,
        owner_email=row.owner_email,
        price_id=row.price_id,
        status=row.status,
        seats=row.seats,
        assigned_seats=row.assigned_seats,
        billing_anchor=row.billing_anchor,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
        cancel_at_period_end=bool(row.cancel_at_period_end),
        canceled_at=row.canceled_at,
        pending_change=_pending_change(row.pending_change),
        created_at=row.created_at,
        payment_method=row.payment_method,
        past_due_since=row.past_due_since,
        next_payment_attempt_at=row.next_payment_attempt_at,
        payment_customer=row.payment_customer,
        payment_attempts=int(row.payment_attempts),
        trial_end=row.trial_end,
    )


def order_from_row(row: Any) -> Order:
    return Order(
        id=row.id,
        company_id=row.company_id,
        owner_email=row.owner_email,
        price_id=row.price_id,
        status=row.status,
        seats=row.seats,
        assigned_seats=row.assigned_seats,
        amount=row.amount,
        currency=row.currency,
        created_at=row.created_at,
    )


class Purchases(Generic[P]):
    """Reading one kind of purchase, with its pool's counts."""

    _table: Table
    _from_row: Callable[[Any], P]

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def get(self, purchase_id: str, *, scope_company_id: str | None = None) -> P | None:
        """The purchase (None when absent or outside the company's scope)."""
        table = self._table
        query = select(*counted(table)).where(table.c.id == purchase_id)
        if scope_company_id is not None:
            query = query.where(table.c.company_id == scope_company_id)
        row = (await self._connection.execute(query)).first()
        return None if row is None else type(self)._from_row(row)

    async def page(self, page: Paging, *, company_id: str | None = None) -> list[P]:
        """One page of the company's purchases, or of all (``page`` orders and bounds it)."""
        table = self._table
        query = select(*counted(table))
        if company_id is not None:
            query = query.where(table.c.company_id == company_id)
        rows = (await self._connection.execute(page(query, table.c.id))).all()
        return [type(self)._from_row(row) for row in rows]

    async def attach(self, purchase_id: str, company_id: str) -> P | None:
        """Move an owner-scoped purchase into the company; None when it is absent or belongs
        to a company already."""
        table = self._table
        row = (
            await self._connection.execute(
                update(table)
                .where(table.c.id == purchase_id, table.c.company_id.is_(None))
                .values(company_id=company_id)
                .returning(*counted(table))
            )
        ).first()
        return None if row is None else type(self)._from_row(row)

    async def attach_all_of(self, owner_email: str, company_id: str) -> list[P]:
        """Move every owner-scoped purchase bought with ``owner_email`` into the company."""
        table = self._table
        rows = await self._connection.execute(
            update(table)
            .where(table.c.company_id.is_(None), table.c.owner_email == owner_email)
            .values(company_id=company_id)
            .returning(*counted(table))
        )
        return [type(self)._from_row(row) for row in rows]


class Orders(Purchases[Order]):
    """The orders of one unit of work's connection."""

    _table = t.orders
    _from_row = staticmethod(order_from_row)

    async def add(self, order: Order) -> Order:
        """Write a new order (its pool is written first, ``SeatPools.create``); answers it
        with its pool's counts."""
        row = (
            await self._connection.execute(
                insert(t.orders)
                .values(
                    id=order.id,
                    company_id=order.company_id,
                    owner_email=order.owner_email,
                    price_id=order.price_id,
                    status=order.status,
                    amount=order.amount,
                    currency=order.currency,
                    created_at=order.created_at,
                )
                .returning(*counted(t.orders))
            )
        ).one()
        return order_from_row(row)


__all__ = [
    "Orders",
    "Paging",
    "Purchases",
    "order_from_row",
    "pending_change_json",
    "subscription_from_row",
]
