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
from typing import TypeVar

from seatledger.adapters.db.paging import paginating
from seatledger.adapters.db.purchases import Purchases
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.errors import AlreadyAttached, NotFound
from seatledger.domain.purchase import Order, Subscription
from seatledger.services.manager_seat import hold_billing_manager_seat
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime

P = TypeVar("P", Subscription, Order)


async def require_company(uow: UnitOfWork, company_id: object, *, field: str) -> str:
    """The id of an existing company, else ``NotFound`` naming ``field`` (a body's id)."""
    if isinstance(company_id, str) and await uow.companies.exists(company_id):
        return company_id
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
            company = await require_company(uow, company_id, field="company_id")
        items = await repository(uow).page(
            paginating(cursor, size, newest_first=newest_first),
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


async def attach_pending_purchases(
    uow: UnitOfWork, rt: Runtime, *, company_id: str, email: str
) -> Attached:
    """Inside the caller's unit of work (no commit): attach every owner-scoped subscription and
    order bought with ``email`` (already normalised) to ``company_id``, with their invoices.

    Checkouts still open for that email follow too, so that confirming one later buys for the
    company rather than for an owner who now has one.
    """
    subscriptions = await uow.subscriptions.attach_all_of(email, company_id)
    orders = await uow.orders.attach_all_of(email, company_id)
    await uow.invoices.attach(company_id, [s.id for s in subscriptions], [o.id for o in orders])
    await uow.checkouts.follow_buyer(email, company_id)
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
    repository: Callable[[UnitOfWork], Purchases[P]],
    noun: str,
    purchase_id: object,
    company_id: object,
) -> P:
    async with rt.transaction() as uow:
        company = await require_company(uow, company_id, field="company_id")
        if not isinstance(purchase_id, str):
            raise NotFound(noun)
        purchases = repository(uow)
        purchase = await purchases.attach(purchase_id, company)
        if purchase is None:
            existing = await purchases.get(purchase_id)
            if existing is None:
                raise NotFound(noun)
            if existing.company_id == company:
                return existing  # attaching again changes nothing
            raise AlreadyAttached(f"This {noun} belongs to another company.")
        is_subscription = isinstance(purchase, Subscription)
        await uow.invoices.attach(
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
    return await _attach(rt, _subscriptions, "subscription", subscription_id, company_id)


async def attach_order(rt: Runtime, order_id: str, *, company_id: str) -> Order:
    """The merchant attaches an owner-scoped order to a company (idempotent)."""
    return await _attach(rt, _orders, "order", order_id, company_id)


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
