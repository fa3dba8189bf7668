"""Open checkouts: created, read, listed, their seats changed, expired after 24 h."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from seatledger.adapters.db.checkouts import CheckoutFilter
from seatledger.adapters.db.paging import paginating
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import Price
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import (
    CheckoutNotOpen,
    NotFound,
    PriceArchived,
    TrialNotSupported,
    ValidationFailed,
)
from seatledger.domain.ids import new_id
from seatledger.domain.payments import CardSetup
from seatledger.domain.purchase import CHECKOUT_TTL, Checkout
from seatledger.pricing import SeatPrice
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.purchases import require_company
from seatledger.services.runtime import Runtime


async def price_of(uow: UnitOfWork, price_id: object) -> Price:
    price = await uow.catalog.price(price_id) if isinstance(price_id, str) else None
    if price is None:
        raise NotFound("price", field="price_id")
    return price


async def checkout_of(
    uow: UnitOfWork, checkout_id: object, scope_company_id: str | None
) -> Checkout:
    """The checkout as written, else NotFound."""
    if isinstance(checkout_id, str):
        found = await uow.checkouts.get(checkout_id, scope_company_id=scope_company_id)
        if found is not None:
            return found
    raise NotFound("checkout")


async def require_open(uow: UnitOfWork, checkout: Checkout, now: datetime) -> None:
    """``checkout_not_open`` unless the checkout is open; one found past its expiry is marked
    expired first (that much is kept: the unit of work commits before the error)."""
    if checkout.status != "open":
        raise CheckoutNotOpen()
    if checkout.expires_at <= now:
        expired = await uow.checkouts.expire(checkout.id, now)
        if expired is not None:
            uow.emit("checkout.expired", expired.as_of(now))
        await uow.commit()
        raise CheckoutNotOpen()


def amounts(seat_price: SeatPrice, seats: int) -> tuple[int, int | None]:
    """``(amount_due, amount_after_trial)``: a trial price's checkout owes nothing now; its
    first charged period (at these seats) comes at the trial's end."""
    amount = seat_price.period_amount(seats)
    return (0, amount) if seat_price.trial_days else (amount, None)


def require_trial_support(rt: Runtime, price: Price) -> None:
    """``trial_not_supported`` for a trial price when the provider cannot check a card without
    charging it (``CardSetup``)."""
    if price.seat_price.trial_days and not isinstance(rt.gateway, CardSetup):
        raise TrialNotSupported()


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
        price = await price_of(uow, price_id)
        count = price.seat_price.check_seats(seats, field="seats")
        company = (
            None
            if company_id is None
            else await require_company(uow, company_id, field="company_id")
        )
        if price.archived:
            raise PriceArchived()
        require_trial_support(rt, price)
        amount_due, amount_after_trial = amounts(price.seat_price, count)
        checkout = Checkout(
            id=new_id("chk"),
            price_id=price.id,
            seats=count,
            company_id=company,
            customer_email=email,
            status="open",
            amount_due=amount_due,
            currency=price.seat_price.currency,
            expires_at=now + CHECKOUT_TTL,
            subscription_id=None,
            order_id=None,
            created_at=now,
            trial_days=price.seat_price.trial_days,
            amount_after_trial=amount_after_trial,
        )
        await uow.checkouts.add(checkout)
        uow.emit("checkout.created", checkout)
        await uow.commit()
    return checkout


async def get_checkout(
    rt: Runtime, checkout_id: str, *, scope_company_id: str | None = None
) -> Checkout:
    async with rt.reading() as uow:
        checkout = await checkout_of(uow, checkout_id, scope_company_id)
    return checkout.as_of(rt.clock.now())


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
    if status not in (None, "open", "completed", "expired"):
        raise ValidationFailed.field("status", "must be open, completed or expired")
    async with rt.reading() as uow:
        checkouts = await uow.checkouts.page(
            paginating(cursor, size, newest_first=True),
            now=now,
            status=cast(CheckoutFilter | None, status),
            scope_company_id=scope_company_id,
        )
    return page_of([c.as_of(now) for c in checkouts], [c.id for c in checkouts], size)


async def update_checkout(
    rt: Runtime, checkout_id: str, *, seats: int, scope_company_id: str | None = None
) -> Checkout:
    """Change the seat count of an open checkout; ``amount_due`` is recomputed."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        found = await checkout_of(uow, checkout_id, scope_company_id)
        await require_open(uow, found, now)
        price = await price_of(uow, found.price_id)
        count = price.seat_price.check_seats(seats, field="seats")
        if price.archived:
            raise PriceArchived()
        amount_due, amount_after_trial = amounts(price.seat_price, count)
        updated = await uow.checkouts.resize(
            found.id, count, amount_due, now, amount_after_trial=amount_after_trial
        )
        if updated is None:
            raise CheckoutNotOpen()
        checkout = updated.as_of(now)
        uow.emit("checkout.updated", checkout)
        await uow.commit()
    return checkout


__all__ = [
    "amounts",
    "checkout_of",
    "create_checkout",
    "get_checkout",
    "list_checkouts",
    "price_of",
    "require_open",
    "require_trial_support",
    "update_checkout",
]
