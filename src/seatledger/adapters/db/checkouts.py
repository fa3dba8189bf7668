"""Checkouts in the database (``checkouts``), read and written as ``Checkout`` values
(``seatledger.domain.purchase``) with the status that was written: ``Checkout.as_of`` says how
one reads at an instant (an open checkout past its expiry is expired)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.purchase import Checkout

_checkouts = t.checkouts
CheckoutFilter = Literal["open", "completed", "expired"]
# How a list is paged: the query and its id column in, the page's query out.
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]


def checkout_from_row(row: Any) -> Checkout:
    return Checkout(
        id=row.id,
        price_id=row.price_id,
        seats=row.seats,
        company_id=row.company_id,
        customer_email=row.customer_email,
        status=row.status,
        amount_due=row.amount_due,
        currency=row.currency,
        expires_at=row.expires_at,
        subscription_id=row.subscription_id,
        order_id=row.order_id,
        created_at=row.created_at,
        payment_url=row.payment_url,
        trial_days=row.trial_days,
        amount_after_trial=row.amount_after_trial,
    )


class Checkouts:
    """The checkouts of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def _one(self, statement: Any) -> Checkout | None:
        row = (await self._connection.execute(statement)).first()
        return None if row is None else checkout_from_row(row)

    async def get(
        self, checkout_id: str, *, scope_company_id: str | None = None
    ) -> Checkout | None:
        """The checkout as written (None when absent or outside the company's scope)."""
        query = select(_checkouts).where(_checkouts.c.id == checkout_id)
        if scope_company_id is not None:
            query = query.where(_checkouts.c.company_id == scope_company_id)
        return await self._one(query)

    async def add(self, checkout: Checkout) -> None:
        await self._connection.execute(
            insert(_checkouts).values(
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
                trial_days=checkout.trial_days,
                amount_after_trial=checkout.amount_after_trial,
            )
        )

    async def expire(self, checkout_id: str, now: datetime) -> Checkout | None:
        """Write ``expired`` on the checkout if it is open and past its expiry; answers it then."""
        return await self._one(
            update(_checkouts)
            .where(
                _checkouts.c.id == checkout_id,
                _checkouts.c.status == "open",
                _checkouts.c.expires_at <= now,
            )
            .values(status="expired")
            .returning(*_checkouts.c)
        )

    async def resize(
        self,
        checkout_id: str,
        seats: int,
        amount_due: int,
        now: datetime,
        *,
        amount_after_trial: int | None = None,
    ) -> Checkout | None:
        """New seats and amount on a checkout still open at ``now`` (None when it is not)."""
        return await self._one(
            update(_checkouts)
            .where(
                _checkouts.c.id == checkout_id,
                _checkouts.c.status == "open",
                _checkouts.c.expires_at > now,
                # Not while a charge of the old amount is under way.
                _checkouts.c.charging_method.is_(None),
            )
            .values(seats=seats, amount_due=amount_due, amount_after_trial=amount_after_trial)
            .returning(*_checkouts.c)
        )

    async def lease_charge(self, checkout_id: str, method: str) -> bool:
        """Take on the charge of an open checkout with ``method``: True when no other method's
        charge is under way. One conditional update, so of two concurrent confirmations with
        different cards exactly one is charged; the same card again (a retry, under the same
        provider key) is let through."""
        leased = await self._connection.execute(
            update(_checkouts)
            .where(
                _checkouts.c.id == checkout_id,
                _checkouts.c.status == "open",
                or_(
                    _checkouts.c.charging_method.is_(None),
                    _checkouts.c.charging_method == method,
                ),
            )
            .values(charging_method=method)
        )
        return leased.rowcount == 1

    async def release_charge(self, checkout_id: str, method: str) -> None:
        """The charge with ``method`` is over without money taken (declined, or the provider
        decided nothing): another card may be tried."""
        await self._connection.execute(
            update(_checkouts)
            .where(_checkouts.c.id == checkout_id, _checkouts.c.charging_method == method)
            .values(charging_method=None, payment_url=None)
        )

    async def wait_for_buyer(self, checkout_id: str, method: str, url: str) -> Checkout | None:
        """The charge with ``method`` waits for the buyer at ``url`` (3-D Secure): the lease
        stays, so only that card's charge can finish it."""
        return await self._one(
            update(_checkouts)
            .where(
                _checkouts.c.id == checkout_id,
                _checkouts.c.status == "open",
                _checkouts.c.charging_method == method,
            )
            .values(payment_url=url)
            .returning(*_checkouts.c)
        )

    async def complete(
        self, checkout_id: str, *, subscription_id: str | None, order_id: str | None
    ) -> Checkout | None:
        """Mark an open checkout completed with what it bought (None when it was not open:
        another confirmation won)."""
        return await self._one(
            update(_checkouts)
            .where(_checkouts.c.id == checkout_id, _checkouts.c.status == "open")
            .values(
                status="completed",
                subscription_id=subscription_id,
                order_id=order_id,
                payment_url=None,
            )
            .returning(*_checkouts.c)
        )

    async def follow_buyer(self, customer_email: str, company_id: str) -> None:
        """Open checkouts of the buyer ``customer_email`` now buy for the company."""
        await self._connection.execute(
            update(_checkouts)
            .where(
                _checkouts.c.company_id.is_(None),
                _checkouts.c.customer_email == customer_email,
                _checkouts.c.status == "open",
            )
            .values(company_id=company_id)
        )

    async def page(
        self,
        paging: Paging,
        *,
        now: datetime,
        status: CheckoutFilter | None = None,
        scope_company_id: str | None = None,
    ) -> list[Checkout]:
        """One page of checkouts; with ``status``, those that read so at ``now``."""
        query = select(_checkouts)
        past_expiry = (_checkouts.c.status == "open") & (_checkouts.c.expires_at <= now)
        if status == "open":
            query = query.where(_checkouts.c.status == "open", _checkouts.c.expires_at > now)
        elif status == "expired":
            query = query.where((_checkouts.c.status == "expired") | past_expiry)
        elif status == "completed":
            query = query.where(_checkouts.c.status == "completed")
        if scope_company_id is not None:
            query = query.where(_checkouts.c.company_id == scope_company_id)
        rows = (await self._connection.execute(paging(query, _checkouts.c.id))).all()
        return [checkout_from_row(row) for row in rows]


__all__ = ["CheckoutFilter", "Checkouts", "checkout_from_row"]
