"""What a confirmed checkout buys: a subscription or an order, with its first invoice, paid."""

from __future__ import annotations

from datetime import datetime

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import Price
from seatledger.domain.events import EventType
from seatledger.domain.invoice import Invoice, invoice_lines
from seatledger.domain.purchase import Checkout, Order, Subscription
from seatledger.pricing import add_intervals, trial_end, trial_line
from seatledger.services import provider_starts
from seatledger.services.invoicing import create_invoice
from seatledger.services.manager_seat import hold_billing_manager_seat
from seatledger.services.runtime import Runtime


async def create_subscription(
    uow: UnitOfWork,
    rt: Runtime,
    *,
    checkout: Checkout,
    price: Price,
    owner_email: str,
    method: str,
    now: datetime,
) -> Invoice:
    """An active subscription whose first period starts now (its billing anchor), and that
    period's invoice, paid. In ``members`` mode a company's billing manager holds a claimed
    seat of it from now (an owner-scoped one gets it when it attaches).

    A price with a trial makes a ``trialing`` subscription instead: its first period is the
    trial (``trial_days`` from now), invoiced at 0 with one line naming its end; the billing
    anchor is the trial's end, where the first charged period starts."""
    seat_price = price.seat_price
    assert seat_price.interval is not None
    trial = seat_price.trial_days
    period_end = trial_end(now, trial) if trial else add_intervals(now, seat_price.interval, 1)
    lines = (trial_line(checkout.seats, period_end),) if trial else seat_price.lines(checkout.seats)
    subscription_id = checkout.subscription_id
    assert subscription_id is not None  # a completed checkout of a recurring price has one
    await uow.pools.create(subscription_id, "subscription", checkout.seats, now)
    await uow.subscriptions.add(
        Subscription(
            id=subscription_id,
            company_id=checkout.company_id,
            owner_email=owner_email,
            price_id=price.id,
            status="trialing" if trial else "active",
            seats=checkout.seats,
            assigned_seats=0,
            billing_anchor=period_end if trial else now,
            current_period_start=now,
            current_period_end=period_end,
            cancel_at_period_end=False,
            canceled_at=None,
            pending_change=None,
            created_at=now,
            payment_method=method,
            # The customer the checkout charged (see ``_charge``): renewals charge it too.
            payment_customer=checkout.customer,
            trial_end=period_end if trial else None,
        )
    )
    await hold_billing_manager_seat(uow, rt, subscription_id=subscription_id)
    await provider_starts.wanted(uow, rt, subscription_id)  # ``billing`` mode: Stripe takes over
    # After the manager's seat: the event shows the subscription as its first answer will.
    uow.emit(EventType.SUBSCRIPTION_CREATED, await uow.subscriptions.current(subscription_id))
    return await create_invoice(
        uow,
        now=now,
        company_id=checkout.company_id,
        subscription_id=checkout.subscription_id,
        currency=checkout.currency,
        lines=invoice_lines(lines, period_start=now, period_end=period_end),
        status="paid",
        reason="subscription_create",
        period_start=now,
        period_end=period_end,
    )


async def create_order(
    uow: UnitOfWork, *, checkout: Checkout, price: Price, owner_email: str, now: datetime
) -> Invoice:
    """A paid order with its own pool of perpetual seats, and its invoice, paid."""
    order_id = checkout.order_id
    assert order_id is not None  # a completed checkout of a one-time price has one
    await uow.pools.create(order_id, "order", checkout.seats, now)
    order = await uow.orders.add(
        Order(
            id=order_id,
            company_id=checkout.company_id,
            owner_email=owner_email,
            price_id=price.id,
            status="paid",
            seats=checkout.seats,
            assigned_seats=0,
            amount=checkout.amount_due,
            currency=checkout.currency,
            created_at=now,
        )
    )
    uow.emit(EventType.ORDER_PAID, order)
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


__all__ = ["create_order", "create_subscription"]
