"""Checkouts: buying seats (SPEC §3, §4, §6).

    open ──confirm (paid)──▶ completed   (a subscription or an order, with its paid invoice)
      │ └─declined card──▶ open          (nothing else changes; try another card)
      └──24 h pass──▶ expired

A checkout names a price, a seat count and a buyer: a company, or only an email (the purchase
is then owner-scoped until a company is created with that billing manager email).

Confirming charges ``amount_due`` *outside* any transaction (no database lock is held while the
provider answers), with the idempotency key ``checkout:{id}:{payment_method}``: a crash after
the charge and a retry with the same card find the same answer and never charge twice; a
declined card and then another card is a new attempt. A declined attempt is recorded in the
``payments`` table in a small transaction of its own and creates nothing else. A successful one
creates the purchase, its first invoice (paid), the payment row and completes the checkout in
one transaction, guarded by a conditional ``UPDATE … WHERE status = 'open'``: of two concurrent
confirms, one creates the purchase and the other is ``checkout_not_open``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.catalog import load_price
from seatledger.adapters.db.purchases import Subscriptions, order_from_row
from seatledger.adapters.db.seat_pools import ORDER_COLUMNS, SUBSCRIPTION_COLUMNS
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import Price
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import (
    CheckoutNotOpen,
    NotFound,
    PaymentFailed,
    PriceArchived,
    ValidationFailed,
)
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.invoice import Invoice, invoice_lines
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.domain.purchase import CHECKOUT_TTL, Checkout, check_payment_method
from seatledger.pricing import add_intervals
from seatledger.services.invoicing import create_invoice
from seatledger.services.manager_seat import hold_billing_manager_seat
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


async def _price(connection: AsyncConnection, price_id: object) -> Price:
    price = await load_price(connection, price_id) if isinstance(price_id, str) else None
    if price is None:
        raise NotFound("price", field="price_id")
    return price


async def _checkout_row(
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


async def _require_open(uow: UnitOfWork, row: Any, now: datetime) -> None:
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
        price = await _price(connection, price_id)
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
        row = await _checkout_row(uow.connection, checkout_id, scope_company_id)
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
        row = await _checkout_row(connection, checkout_id, scope_company_id)
        await _require_open(uow, row, now)
        price = await _price(connection, row.price_id)
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


async def _manager_email(connection: AsyncConnection, company_id: str) -> str:
    return str(
        (
            await connection.execute(
                select(t.members.c.email).where(
                    t.members.c.company_id == company_id, t.members.c.role == "billing_manager"
                )
            )
        ).scalar_one()
    )


async def _record_payment(
    connection: AsyncConnection,
    rt: Runtime,
    *,
    checkout: Any,
    payment_method: str,
    result: PaymentResult,
    invoice_id: str | None,
    now: datetime,
) -> str:
    payment_id = new_id("pay")
    await connection.execute(
        insert(t.payments).values(
            id=payment_id,
            invoice_id=invoice_id,
            checkout_id=checkout.id,
            provider=rt.gateway.name,
            provider_reference=result.reference,
            payment_method=payment_method,
            amount=checkout.amount_due,
            currency=checkout.currency,
            status="succeeded" if result.succeeded else "failed",
            failure_reason=None if result.succeeded else (result.failure_reason or "")[:300],
            created_at=now,
        )
    )
    return payment_id


async def _create_subscription(
    uow: UnitOfWork,
    rt: Runtime,
    *,
    checkout: Any,
    price: Price,
    owner_email: str,
    method: str,
    now: datetime,
) -> Invoice:
    """An active subscription whose first period starts now (its billing anchor), and that
    period's invoice, paid. In ``members`` mode a company's billing manager holds a claimed
    seat of it from now (an owner-scoped one gets it when it attaches)."""
    seat_price = price.seat_price
    assert seat_price.interval is not None
    period_end = add_intervals(now, seat_price.interval, 1)
    await uow.pools.create(checkout.subscription_id, "subscription", checkout.seats, now)
    row = (
        await uow.connection.execute(
            insert(t.subscriptions)
            .values(
                id=checkout.subscription_id,
                company_id=checkout.company_id,
                owner_email=owner_email,
                price_id=price.id,
                status="active",
                billing_anchor=now,
                current_period_start=now,
                current_period_end=period_end,
                cancel_at_period_end=False,
                payment_method=method,
                # The customer the checkout charged (see ``_charge``): renewals charge it too.
                payment_customer=checkout.customer_email or checkout.company_id,
                created_at=now,
            )
            .returning(*SUBSCRIPTION_COLUMNS)
        )
    ).one()
    await hold_billing_manager_seat(uow, rt, subscription_id=row.id)
    # After the manager's seat: the event shows the subscription as its first answer will.
    uow.emit(EventType.SUBSCRIPTION_CREATED, await Subscriptions(uow.connection).current(row.id))
    return await create_invoice(
        uow,
        now=now,
        company_id=checkout.company_id,
        subscription_id=checkout.subscription_id,
        currency=checkout.currency,
        lines=invoice_lines(
            seat_price.lines(checkout.seats), period_start=now, period_end=period_end
        ),
        status="paid",
        reason="subscription_create",
        period_start=now,
        period_end=period_end,
    )


async def _create_order(
    uow: UnitOfWork, *, checkout: Any, price: Price, owner_email: str, now: datetime
) -> Invoice:
    """A paid order with its own pool of perpetual seats, and its invoice, paid."""
    await uow.pools.create(checkout.order_id, "order", checkout.seats, now)
    row = (
        await uow.connection.execute(
            insert(t.orders)
            .values(
                id=checkout.order_id,
                company_id=checkout.company_id,
                owner_email=owner_email,
                price_id=price.id,
                status="paid",
                amount=checkout.amount_due,
                currency=checkout.currency,
                created_at=now,
            )
            .returning(*ORDER_COLUMNS)
        )
    ).one()
    uow.emit(EventType.ORDER_PAID, order_from_row(row))
    return await create_invoice(
        uow,
        now=now,
        company_id=checkout.company_id,
        order_id=checkout.order_id,
        currency=checkout.currency,
        lines=invoice_lines(
            price.seat_price.lines(checkout.seats), period_start=None, period_end=None
        ),
        status="paid",
        reason="order",
    )


async def _charge(rt: Runtime, checkout: Any, method: str) -> PaymentResult | None:
    """Charge the amount due (None when there is nothing to charge). A declined attempt is
    recorded in a transaction of its own, then raised as ``PaymentFailed``."""
    if checkout.amount_due == 0:
        return None
    result = await rt.charge(
        PaymentRequest(
            amount=checkout.amount_due,
            currency=checkout.currency,
            payment_method=method,
            # The buyer's first identity: a checkout that follows its buyer into a company keeps
            # its provider customer (and a retry sends the same request under the same key).
            customer=checkout.customer_email or checkout.company_id,
            description=f"Checkout {checkout.id}: {checkout.seats} seats",
            idempotency_key=f"checkout:{checkout.id}:{method}",
        )
    )
    if result.succeeded:
        return result
    reason = result.failure_reason or "The payment was declined."
    async with rt.transaction() as uow:
        await _record_payment(
            uow.connection,
            rt,
            checkout=checkout,
            payment_method=method,
            result=result,
            invoice_id=None,
            now=rt.clock.now(),
        )
        uow.emit(
            "checkout.payment_failed",
            {"checkout_id": checkout.id, "payment_method": method, "reason": reason},
        )
        await uow.commit()
    raise PaymentFailed(reason)


async def confirm_checkout(
    rt: Runtime,
    checkout_id: str,
    *,
    payment_method: str,
    scope_company_id: str | None = None,
) -> Checkout:
    """Pay an open checkout and create what it buys.

    A recurring price creates an active subscription whose first period starts now (the billing
    anchor), with its first invoice paid; a one-time price creates a paid order with a paid
    invoice. No seat rows and no benefit grants exist yet: seats are assigned later. A zero
    amount is not charged. A declined card raises ``PaymentFailed`` with the provider's reason
    and leaves the checkout open; a method the provider does not know is ``ValidationFailed``
    (``payment_method``) before anything is read or written.

    Three short transactions, none open while the provider answers: check the checkout, (record
    a declined attempt,) complete the purchase.
    """
    method = check_payment_method(payment_method)
    rt.gateway.check_payment_method(method)  # a typo is not a decline: nothing happens
    async with rt.transaction() as uow:
        row = await _checkout_row(uow.connection, checkout_id, scope_company_id)
        await _require_open(uow, row, rt.clock.now())
        price = await _price(uow.connection, row.price_id)
        if price.archived:
            raise PriceArchived()

    result = await _charge(rt, row, method)

    now = rt.clock.now()
    recurring = price.seat_price.interval is not None
    async with rt.transaction() as uow:
        connection = uow.connection
        done = (
            await connection.execute(
                update(t.checkouts)
                .where(t.checkouts.c.id == row.id, t.checkouts.c.status == "open")
                .values(
                    status="completed",
                    subscription_id=new_id("sub") if recurring else None,
                    order_id=None if recurring else new_id("ord"),
                )
                .returning(*t.checkouts.c)
            )
        ).first()
        if done is None:
            raise CheckoutNotOpen()  # another confirm won the race
        # Read from the updated row: the checkout may have followed its buyer into a company.
        owner_email = done.customer_email or await _manager_email(connection, done.company_id)
        if recurring:
            invoice = await _create_subscription(
                uow,
                rt,
                checkout=done,
                price=price,
                owner_email=owner_email,
                method=method,
                now=now,
            )
        else:
            invoice = await _create_order(
                uow, checkout=done, price=price, owner_email=owner_email, now=now
            )
        if result is not None:
            await _record_payment(
                connection,
                rt,
                checkout=done,
                payment_method=method,
                result=result,
                invoice_id=invoice.id,
                now=now,
            )
        checkout = checkout_from_row(done, now)
        uow.emit(EventType.CHECKOUT_COMPLETED, checkout)
        await uow.commit()
    return checkout


__all__ = [
    "checkout_from_row",
    "confirm_checkout",
    "create_checkout",
    "get_checkout",
    "list_checkouts",
    "update_checkout",
]
