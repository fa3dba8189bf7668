"""Confirming a checkout: the charge outside any transaction, then the purchase in one.

See the package's docstring for the rules (``seatledger.services.checkouts``)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import Price
from seatledger.domain.errors import (
    CheckoutNotOpen,
    PaymentFailed,
    PaymentProviderUnavailable,
    PriceArchived,
)
from seatledger.domain.events import EventType
from seatledger.domain.ids import new_id
from seatledger.domain.payment_record import PaymentRecord
from seatledger.domain.payments import CardSetup, CardSetupRequest, PaymentRequest, PaymentResult
from seatledger.domain.purchase import Checkout, check_payment_method
from seatledger.services.checkouts.checkout import (
    checkout_of,
    price_of,
    require_open,
    require_trial_support,
)
from seatledger.services.checkouts.fulfilment import create_order, create_subscription
from seatledger.services.credit import add_to_balances
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.payments")


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Settled(Generic[T]):
    """What a transaction made of a charge: the use case's ``answer``, the checkout the charge
    paid for (None: nothing settled, nothing written), and the invoice it paid, if any."""

    answer: T
    paid: Checkout | None
    invoice_id: str | None = None


async def _settle(
    rt: Runtime,
    method: str,
    result: PaymentResult | None,
    step: Callable[[UnitOfWork, datetime], Awaitable[_Settled[T]]],
) -> T:
    """``step`` in one transaction, the charge's ``result`` recorded with what it settled.

    The one place a checkout's payment is recorded, so a declined attempt, one waiting for the
    buyer, a purchase and a late charge turned into credit record it alike: the checkout's
    amount and currency, under the method charged."""
    now = rt.clock.now()
    async with rt.transaction() as uow:
        settled = await step(uow, now)
        if settled.paid is None:
            return settled.answer
        if result is not None:
            record = PaymentRecord.of(
                result,
                provider=rt.gateway.name,
                payment_method=method,
                amount=settled.paid.amount_due,
                currency=settled.paid.currency,
                now=now,
                invoice_id=settled.invoice_id,
                checkout_id=settled.paid.id,
            )
            await uow.payments.add([record])
        await uow.commit()
    return settled.answer


async def _charge(rt: Runtime, checkout: Checkout, method: str) -> PaymentResult | None:
    """Charge the amount due (None when there is nothing to charge). A declined attempt is
    recorded in a transaction of its own, then raised as ``PaymentFailed``."""
    if checkout.amount_due == 0:
        return None
    try:
        result = await _request_charge(rt, checkout, method)
    except PaymentProviderUnavailable:
        await _release(rt, checkout, method)  # nothing was decided: another card may be tried
        raise
    if result.succeeded or result.action_url is not None:
        return result  # paid, or waiting for the buyer (``wait_for_buyer``)
    reason = result.failure_reason or "The payment was declined."

    async def declined(uow: UnitOfWork, now: datetime) -> _Settled[None]:
        await uow.checkouts.release_charge(checkout.id, method)
        uow.emit(
            "checkout.payment_failed",
            {"checkout_id": checkout.id, "payment_method": method, "reason": reason},
        )
        return _Settled(None, paid=checkout)

    await _settle(rt, method, result, declined)
    raise PaymentFailed(reason)


async def _set_up_card(rt: Runtime, checkout: Checkout, method: str) -> str:
    """A trial's checkout charges nothing, but its card is checked now and kept for the charge
    at the trial's end: the method to keep, or ``PaymentFailed`` (recorded as a failed attempt
    of the checkout, which stays open) when the provider refuses the card."""
    gateway = rt.gateway
    assert isinstance(gateway, CardSetup)  # ``require_trial_support``
    result = await gateway.set_up_card(
        CardSetupRequest(
            payment_method=method,
            customer=checkout.customer,
            idempotency_key=f"checkout:{checkout.id}:{method}:setup",
        )
    )
    if result.succeeded:
        return result.payment_method or method
    reason = result.failure_reason or "The card was declined."
    async with rt.transaction() as uow:
        uow.emit(
            "checkout.payment_failed",
            {"checkout_id": checkout.id, "payment_method": method, "reason": reason},
        )
        await uow.commit()
    raise PaymentFailed(reason)


async def _release(rt: Runtime, checkout: Checkout, method: str) -> None:
    async with rt.transaction() as uow:
        await uow.checkouts.release_charge(checkout.id, method)
        await uow.commit()


async def _request_charge(rt: Runtime, checkout: Checkout, method: str) -> PaymentResult:
    return await rt.charge(
        PaymentRequest(
            amount=checkout.amount_due,
            currency=checkout.currency,
            payment_method=method,
            # The buyer's first identity: a checkout that follows its buyer into a company keeps
            # its provider customer (and a retry sends the same request under the same key).
            customer=checkout.customer,
            description=f"Checkout {checkout.id}: {checkout.seats} seats",
            idempotency_key=f"checkout:{checkout.id}:{method}",
            on_session=True,
        )
    )


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
    amount is not charged. A price with a free trial charges nothing: the card is checked
    (``_set_up_card``) and the subscription is ``trialing``. A declined card raises
    ``PaymentFailed`` with the provider's reason and leaves the checkout open; a method the
    provider does not know is ``ValidationFailed`` (``payment_method``) before anything is read
    or written.

    Three short transactions, none open while the provider answers: check the checkout, (record
    a declined attempt,) complete the purchase.
    """
    method = check_payment_method(payment_method)
    rt.gateway.check_payment_method(method)  # a typo is not a decline: nothing happens
    async with rt.transaction() as uow:
        row = await checkout_of(uow, checkout_id, scope_company_id)
        await require_open(uow, row, rt.clock.now())
        price = await price_of(uow, row.price_id)
        if price.archived:
            raise PriceArchived()
        require_trial_support(rt, price)
        if row.amount_due > 0:
            if not await uow.checkouts.lease_charge(row.id, method):
                raise CheckoutNotOpen("A payment with another method is under way.")
            await uow.commit()

    if price.seat_price.trial_days:
        kept = await _set_up_card(rt, row, method)
        return await complete_purchase(rt, row.id, price, kept, None)
    result = await _charge(rt, row, method)
    if result is not None and not result.succeeded:
        return await _wait_for_buyer(rt, row, method, result)
    return await complete_purchase(rt, row.id, price, method, result)


async def _wait_for_buyer(
    rt: Runtime, checkout: Checkout, method: str, result: PaymentResult
) -> Checkout:
    """The charge waits for the buyer (3-D Secure): the checkout stays open with the link where
    they finish it (``payment_url``), its lease kept for this card; the attempt is recorded
    under the provider's reference, which settles it (``settle_waiting_charge``)."""
    action_url = result.action_url
    assert action_url is not None

    async def waiting(uow: UnitOfWork, now: datetime) -> _Settled[Checkout]:
        waits = await uow.checkouts.wait_for_buyer(checkout.id, method, action_url)
        if waits is None:
            raise CheckoutNotOpen()  # completed meanwhile (the same card's earlier attempt)
        return _Settled(waits.as_of(now), paid=checkout)

    return await _settle(rt, method, result, waiting)


async def settle_waiting_charge(
    rt: Runtime, checkout_id: str, method: str, result: PaymentResult
) -> None:
    """A checkout's charge that waited for the buyer has its outcome: paid, the checkout
    completes as a confirm would (once); failed, it stays open, its link dropped and its lease
    released, so another card may be tried. Money taken for a checkout completed meanwhile
    (the buyer also paid on the hosted page) is never lost: it becomes the company's credit."""
    if not result.succeeded:
        async with rt.transaction() as uow:
            await uow.checkouts.release_charge(checkout_id, method)
            await uow.commit()
        return
    async with rt.reading() as uow:
        checkout = await uow.checkouts.get(checkout_id)
        if checkout is None or await uow.payments.taken(result.reference or ""):
            return  # not ours, or settled already
        price = await price_of(uow, checkout.price_id)
    if checkout.status == "open":
        try:
            await complete_purchase(rt, checkout_id, price, method, result)
            return
        except CheckoutNotOpen:
            pass
    await _credit_late_charge(rt, checkout_id, method, result)


async def _credit_late_charge(
    rt: Runtime, checkout_id: str, method: str, result: PaymentResult
) -> None:
    """The charge recorded as taken, its amount credited to the company (once)."""

    async def credited(uow: UnitOfWork, now: datetime) -> _Settled[None]:
        checkout = await uow.checkouts.get(checkout_id)
        if checkout is None or await uow.payments.taken(result.reference or ""):
            return _Settled(None, paid=None)
        if checkout.company_id is not None:
            key = (checkout.company_id, checkout.currency)
            await add_to_balances(uow, {key: checkout.amount_due})
        else:  # a buyer with no company yet has no balance: the payment says what was taken
            log.warning("checkout %s was paid twice; refund %s", checkout.id, result.reference)
        return _Settled(None, paid=checkout)

    await _settle(rt, method, result, credited)


async def complete_purchase(
    rt: Runtime, checkout_id: str, price: Price, method: str, result: PaymentResult | None
) -> Checkout:
    """The purchase's transaction: complete the checkout (if still open), create what it buys
    and its paid invoice, record the payment. ``CheckoutNotOpen`` when it is not open. The
    method saved for later charges is the one the provider made of ``method``, if it did."""
    if result is not None and result.payment_method is not None:
        method = result.payment_method
    recurring = price.seat_price.interval is not None

    async def purchased(uow: UnitOfWork, now: datetime) -> _Settled[Checkout]:
        done = await uow.checkouts.complete(
            checkout_id,
            subscription_id=new_id("sub") if recurring else None,
            order_id=None if recurring else new_id("ord"),
        )
        if done is None:
            raise CheckoutNotOpen()  # another confirm won the race
        # Read from the updated row: the checkout may have followed its buyer into a company.
        owner_email = done.customer_email or await uow.members.billing_manager_email(
            done.company_id or ""
        )
        if recurring:
            invoice = await create_subscription(
                uow, rt, checkout=done, price=price, owner_email=owner_email, method=method, now=now
            )
        else:
            invoice = await create_order(
                uow, checkout=done, price=price, owner_email=owner_email, now=now
            )
        checkout = done.as_of(now)
        uow.emit(EventType.CHECKOUT_COMPLETED, checkout)
        return _Settled(checkout, paid=done, invoice_id=invoice.id)

    return await _settle(rt, method, result, purchased)


__all__ = ["complete_purchase", "confirm_checkout", "settle_waiting_charge"]
