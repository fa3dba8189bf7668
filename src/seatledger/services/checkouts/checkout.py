"""Open checkouts: created, read, listed, their seats changed, expired after 24 h."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.catalog import load_price
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import Price
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import (
    CheckoutNotOpen,
    NotFound,
    PriceArchived,
    ValidationFailed,
)
from seatledger.domain.ids import new_id
from seatledger.domain.purchase import CHECKOUT_TTL, Checkout
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.purchases import require_company
from seatledger.services.runtime import Runtime


def checkout_from_row(row: Any, now: datetime) -> Checkout:
    """An open checkout past its expiry reads as expired, whether or not that was written."""
    status = row.status
    if status == "open" and row.expires_at <= now:
        status = "expired"
    return Checkout(
        id=row.id,
        price_id=row.price_id,
        seats=row.seats,
        company_id=row.company_id,
        customer_email=row.customer_email,
        status=status,
        amount_due=row.amount_due,
        currency=row.currency,
        expires_at=row.expires_at,
        subscription_id=row.subscription_id,
        order_id=row.order_id,
        created_at=row.created_at,
    )


async def price_of(connection: AsyncConnection, price_id: object) -> Price:
    price = await load_price(connection, price_id) if isinstance(price_id, str) else None
    if price is None:
        raise NotFound("price", field="price_id")
    return price


async def checkout_row(
    connection: AsyncConnection, checkout_id: object, scope_company_id: str | None
) -> Any:
    if isinstance(checkout_id, str):
        query = select(t.checkouts).where(t.checkouts.c.id == checkout_id)
        if scope_company_id is not None:
            query = query.where(t.checkouts.c.company_id == scope_company_id)
        row = (await connection.execute(query)).first()
        if row is not None:
            return row
    raise NotFound("checkout")


async def _expire(uow: UnitOfWork, checkout_id: str, now: datetime) -> None:
    row = (
        await uow.connection.execute(
            update(t.checkouts)
            .where(
                t.checkouts.c.id == checkout_id,
                t.checkouts.c.status == "open",
                t.checkouts.c.expires_at <= now,
            )
            .values(status="expired")
            .returning(*t.checkouts.c)
        )
    ).first()
    if row is not None:
        uow.emit("checkout.expired", checkout_from_row(row, now))


async def require_open(uow: UnitOfWork, row: Any, now: datetime) -> None:
    """``checkout_not_open`` unless the checkout is open; one found past its expiry is marked
    expired first (that much is kept: the unit of work commits before the error)."""
    if row.status != "open":
        raise CheckoutNotOpen()
    if row.expires_at <= now:
        await _expire(uow, row.id, now)
        await uow.commit()
        raise CheckoutNotOpen()


# -- use cases ------------------------------------------------------------------------------------


async def create_checkout(
    rt: Runtime,
    *,
    price_id: str,
    seats: int,
    company_id: str | None = None,
    customer_email: str | None = None,
) -> Checkout:
    """Open a checkout for ``seats`` seats of a price, for a company or for an email."""
    if (company_id is None) == (customer_email is None):
        raise ValidationFailed.field(
            "company_id", "give exactly one of company_id or customer_email"
        )
    email = (
        None if customer_email is None else normalize_email(customer_email, field="customer_email")
    )
    now = rt.clock.now()
    async with rt.transaction() as uow:
        connection = uow.connection
        price = await price_of(connection, price_id)
        count = price.seat_price.check_seats(seats, field="seats")
        company = (
            None
            if company_id is None
            else await require_company(connection, company_id, field="company_id")
        )
        if price.archived:
            raise PriceArchived()
        checkout = Checkout(
            id=new_id("chk"),
            price_id=price.id,
            seats=count,
            company_id=company,
            customer_email=email,
            status="open",
            amount_due=price.seat_price.period_amount(count),
            currency=price.seat_price.currency,
            expires_at=now + CHECKOUT_TTL,
            subscription_id=None,
            order_id=None,
            created_at=now,
        )
        await connection.execute(
            insert(t.checkouts).values(
                id=checkout.id,
                price_id=checkout.price_id,
                seats=checkout.seats,
                company_id=checkout.company_id,
                customer_email=checkout.customer_email,
                status=checkout.status,
                amount_due=checkout.amount_due,
                currency=checkout.currency,
                expires_at=checkout.expires_at,
                created_at=checkout.created_at,
            )
        )
        uow.emit("checkout.created", checkout)
        await uow.commit()
    return checkout


async def get_checkout(
    rt: Runtime, checkout_id: str, *, scope_company_id: str | None = None
) -> Checkout:
    async with rt.reading() as uow:
        row = await checkout_row(uow.connection, checkout_id, scope_company_id)
    return checkout_from_row(row, rt.clock.now())


async def list_checkouts(
    rt: Runtime,
    *,
    status: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    scope_company_id: str | None = None,
) -> Page[Checkout]:
    """Checkouts, newest first; with ``status``, those that read so now (an open checkout past
    its expiry is ``expired``); with ``scope_company_id``, that company's only."""
    size = check_limit(limit)
    now = rt.clock.now()
    checkouts = t.checkouts
    query = select(checkouts)
    past_expiry = (checkouts.c.status == "open") & (checkouts.c.expires_at <= now)
    if status == "open":
        query = query.where(checkouts.c.status == "open", checkouts.c.expires_at > now)
    elif status == "expired":
        query = query.where((checkouts.c.status == "expired") | past_expiry)
    elif status == "completed":
        query = query.where(checkouts.c.status == "completed")
    elif status is not None:
        raise ValidationFailed.field("status", "must be open, completed or expired")
    if scope_company_id is not None:
        query = query.where(checkouts.c.company_id == scope_company_id)
    async with rt.reading() as uow:
        page = paginate(query, checkouts.c.id, cursor, size, newest_first=True)
        rows = (await uow.connection.execute(page)).all()
    return page_of([checkout_from_row(row, now) for row in rows], [row.id for row in rows], size)


async def update_checkout(
    rt: Runtime, checkout_id: str, *, seats: int, scope_company_id: str | None = None
) -> Checkout:
    """Change the seat count of an open checkout; ``amount_due`` is recomputed."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        connection = uow.connection
        row = await checkout_row(connection, checkout_id, scope_company_id)
        await require_open(uow, row, now)
        price = await price_of(connection, row.price_id)
        count = price.seat_price.check_seats(seats, field="seats")
        if price.archived:
            raise PriceArchived()
        updated = (
            await connection.execute(
                update(t.checkouts)
                .where(
                    t.checkouts.c.id == row.id,
                    t.checkouts.c.status == "open",
                    t.checkouts.c.expires_at > now,
                )
                .values(seats=count, amount_due=price.seat_price.period_amount(count))
                .returning(*t.checkouts.c)
            )
        ).first()
        if updated is None:
            raise CheckoutNotOpen()
        checkout = checkout_from_row(updated, now)
        uow.emit("checkout.updated", checkout)
        await uow.commit()
    return checkout


__all__ = [
    "checkout_from_row",
    "checkout_row",
    "create_checkout",
    "get_checkout",
    "list_checkouts",
    "price_of",
    "require_open",
    "update_checkout",
]
