"""Subscriptions and orders (the seat pools a checkout creates): reading them, and attaching
owner-scoped ones to a company (SPEC §3, §4).

A purchase made with only an email is owner-scoped: ``company_id`` is NULL and ``owner_email``
is the buyer's address (stored lowercased, so equality is case-insensitive). It attaches to a
company when one is created with that email as billing manager (``attach_pending_purchases``,
inside ``create_company``'s transaction), or when the merchant attaches it explicitly
(``attach_subscription`` / ``attach_order``). Attaching keeps the seats, the payment method
(and the payment provider's customer) and the invoices, which follow the purchase into the
company; a subscription in ``members`` mode gives the company's billing manager a claimed seat
then. Seat operations before that are
``company_required`` (the seat service's rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.purchases import (
    Purchases,
    company_exists,
    order_from_row,
    subscription_from_row,
)
from seatledger.adapters.db.seat_pools import ORDER_COLUMNS, SUBSCRIPTION_COLUMNS, counted
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import AlreadyAttached, NotFound
from seatledger.domain.purchase import Order, Subscription
from seatledger.services.manager_seat import hold_billing_manager_seat
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime

P = TypeVar("P", Subscription, Order)


async def require_company(connection: AsyncConnection, company_id: object, *, field: str) -> str:
    """The id of an existing company, else ``NotFound`` naming ``field`` (a body's id)."""
    if isinstance(company_id, str):
        found = await company_exists(connection, company_id)
        if found is not None:
            return found
    raise NotFound("company", field=field)


# -- reading --------------------------------------------------------------------------------------


def _subscriptions(uow: UnitOfWork) -> Purchases[Subscription]:
    return uow.subscriptions


def _orders(uow: UnitOfWork) -> Purchases[Order]:
    return uow.orders


async def _get(
    rt: Runtime,
    repository: Callable[[UnitOfWork], Purchases[P]],
    noun: str,
    purchase_id: object,
    scope_company_id: str | None,
) -> P:
    if isinstance(purchase_id, str):
        async with rt.reading() as uow:
            found = await repository(uow).get(purchase_id, scope_company_id=scope_company_id)
        if found is not None:
            return found
    raise NotFound(noun)


async def _list(
    rt: Runtime,
    repository: Callable[[UnitOfWork], Purchases[P]],
    company_id: object,
    limit: int | None,
    cursor: str | None,
) -> Page[P]:
    """A company's purchases oldest first; without a company, every purchase newest first."""
    size = check_limit(limit)
    newest_first = company_id is None
    async with rt.reading() as uow:
        company = None
        if company_id is not None:
            company = await require_company(uow.connection, company_id, field="company_id")
        items = await repository(uow).page(
            lambda query, id_: paginate(query, id_, cursor, size, newest_first=newest_first),
            company_id=company,
        )
    return page_of(items, [item.id for item in items], size)


async def get_subscription(
    rt: Runtime, subscription_id: str, *, scope_company_id: str | None = None
) -> Subscription:
    return await _get(rt, _subscriptions, "subscription", subscription_id, scope_company_id)


async def list_subscriptions(
    rt: Runtime,
    *,
    company_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Subscription]:
    """A company's subscriptions, oldest first (canceled ones included); without
    ``company_id``, every subscription, newest first (owner-scoped ones included)."""
    return await _list(rt, _subscriptions, company_id, limit, cursor)


async def get_order(rt: Runtime, order_id: str, *, scope_company_id: str | None = None) -> Order:
    return await _get(rt, _orders, "order", order_id, scope_company_id)


async def list_orders(
    rt: Runtime,
    *,
    company_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[Order]:
    """A company's orders, oldest first; without ``company_id``, every order, newest first."""
    return await _list(rt, _orders, company_id, limit, cursor)


# -- attaching ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attached:
    subscriptions: tuple[Subscription, ...]
    orders: tuple[Order, ...]


async def _attach_invoices(
    connection: AsyncConnection,
    company_id: str,
    subscription_ids: list[str],
    order_ids: list[str],
) -> None:
    """The invoices of purchases that just attached follow them into the company."""
    if not subscription_ids and not order_ids:
        return
    await connection.execute(
        update(t.invoices)
        .where(
            t.invoices.c.company_id.is_(None),
            or_(
                t.invoices.c.subscription_id.in_(subscription_ids),
                t.invoices.c.order_id.in_(order_ids),
            ),
        )
        .values(company_id=company_id)
    )


async def attach_pending_purchases(
    uow: UnitOfWork, rt: Runtime, *, company_id: str, email: str
) -> Attached:
    """Inside the caller's unit of work (no commit): attach every owner-scoped subscription and
    order bought with ``email`` (already normalised) to ``company_id``, with their invoices.

    Checkouts still open for that email follow too, so that confirming one later buys for the
    company rather than for an owner who now has one.
    """
    connection = uow.connection
    subscriptions = [
        subscription_from_row(row)
        for row in await connection.execute(
            update(t.subscriptions)
            .where(t.subscriptions.c.company_id.is_(None), t.subscriptions.c.owner_email == email)
            .values(company_id=company_id)
            .returning(*SUBSCRIPTION_COLUMNS)
        )
    ]
    orders = [
        order_from_row(row)
        for row in await connection.execute(
            update(t.orders)
            .where(t.orders.c.company_id.is_(None), t.orders.c.owner_email == email)
            .values(company_id=company_id)
            .returning(*ORDER_COLUMNS)
        )
    ]
    await _attach_invoices(
        connection, company_id, [s.id for s in subscriptions], [o.id for o in orders]
    )
    await connection.execute(
        update(t.checkouts)
        .where(
            t.checkouts.c.company_id.is_(None),
            t.checkouts.c.customer_email == email,
            t.checkouts.c.status == "open",
        )
        .values(company_id=company_id)
    )
    for subscription in sorted(subscriptions, key=lambda s: s.id):
        uow.emit("subscription.attached", subscription)
        await hold_billing_manager_seat(uow, rt, subscription_id=subscription.id)
    for order in sorted(orders, key=lambda o: o.id):
        uow.emit("order.attached", order)
    return Attached(
        subscriptions=tuple(sorted(subscriptions, key=lambda s: s.id)),
        orders=tuple(sorted(orders, key=lambda o: o.id)),
    )


async def _attach(
    rt: Runtime,
    table: Table,
    noun: str,
    from_row: Callable[[Any], P],
    purchase_id: object,
    company_id: object,
) -> P:
    async with rt.transaction() as uow:
        connection = uow.connection
        company = await require_company(connection, company_id, field="company_id")
        if not isinstance(purchase_id, str):
            raise NotFound(noun)
        row = (
            await connection.execute(
                update(table)
                .where(table.c.id == purchase_id, table.c.company_id.is_(None))
                .values(company_id=company)
                .returning(*counted(table))
            )
        ).first()
        if row is None:
            existing = (
                await connection.execute(select(*counted(table)).where(table.c.id == purchase_id))
            ).first()
            if existing is None:
                raise NotFound(noun)
            if existing.company_id == company:
                return from_row(existing)  # attaching again changes nothing
            raise AlreadyAttached(f"This {noun} belongs to another company.")
        purchase = from_row(row)
        is_subscription = table is t.subscriptions
        await _attach_invoices(
            connection,
            company,
            [purchase.id] if is_subscription else [],
            [] if is_subscription else [purchase.id],
        )
        uow.emit(f"{noun}.attached", purchase)
        if is_subscription:
            await hold_billing_manager_seat(uow, rt, subscription_id=purchase.id)
        await uow.commit()
    return purchase


async def attach_subscription(
    rt: Runtime, subscription_id: str, *, company_id: str
) -> Subscription:
    """The merchant attaches an owner-scoped subscription to a company (idempotent)."""
    return await _attach(
        rt,
        t.subscriptions,
        "subscription",
        subscription_from_row,
        subscription_id,
        company_id,
    )


async def attach_order(rt: Runtime, order_id: str, *, company_id: str) -> Order:
    """The merchant attaches an owner-scoped order to a company (idempotent)."""
    return await _attach(rt, t.orders, "order", order_from_row, order_id, company_id)


__all__ = [
    "Attached",
    "attach_order",
    "attach_pending_purchases",
    "attach_subscription",
    "get_order",
    "get_subscription",
    "list_orders",
    "list_subscriptions",
    "require_company",
]
