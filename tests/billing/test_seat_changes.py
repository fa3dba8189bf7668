"""A seat change of a subscription Stripe bills (PATCH's use case): pushed to Stripe with the
behaviour's proration, and followed here only once Stripe applied it (SPEC §3's ``invoice``:
a failed payment leaves the change unapplied on both sides); what Stripe cannot do here is a
clear 422."""

from __future__ import annotations

from dataclasses import replace

import pytest

from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.errors import PaymentFailed, ValidationFailed
from seatledger.services import cancellation, provider_subscriptions, purchases, seats
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import change_subscription
from tests.fakes.stripe import FakeStripe
from tests.fakes.stripe.invoices import subscription_of
from tests.integration import shop

pytestmark = pytest.mark.db


async def _billed(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> tuple[Runtime, str, str]:
    rt = replace(runtime, billing=billing)
    (price_id,) = await shop.product(rt, shop.per_seat(1000))
    sub_id = await shop.subscribe(rt, price_id, await shop.company(rt), 3)
    remote = await provider_subscriptions.start_billing(rt, billing, sub_id, customer=customer)
    return rt, sub_id, remote.id


def _invoices(fake: FakeStripe, provider_id: str) -> list[dict]:
    return [i for i in fake.objects("invoice") if subscription_of(i) == provider_id]


async def test_prorate_is_applied_in_stripe_and_followed_here(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    rt, sub_id, provider_id = await _billed(runtime, billing, customer)
    local_invoices = len(await shop.invoices(rt, sub_id))

    changed = await change_subscription(rt, sub_id, seats=5, proration_behavior="prorate")

    assert changed.seats == 5
    assert (await billing.subscription(provider_id)).items[0].quantity == 5
    assert len(_invoices(fake, provider_id)) == 1  # the proration waits for Stripe's next
    assert [p for p in fake.store.pending_prorations if p[0] == provider_id]
    assert len(await shop.invoices(rt, sub_id)) == local_invoices  # Stripe bills, not us


async def test_invoice_bills_the_proration_in_stripe_now(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    rt, sub_id, provider_id = await _billed(runtime, billing, customer)

    changed = await change_subscription(rt, sub_id, seats=4, proration_behavior="invoice")

    assert changed.seats == 4
    _, proration = _invoices(fake, provider_id)
    assert proration["status"] == "paid"
    assert 0 < proration["total"] <= 1000  # one seat for what is left of the period


async def test_a_failed_invoice_payment_leaves_the_change_unapplied_on_both_sides(
    runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    rt, sub_id, provider_id = await _billed(runtime, billing, customer)
    fake.store.declining.add(customer)

    with pytest.raises(PaymentFailed):
        await change_subscription(rt, sub_id, seats=6, proration_behavior="invoice")

    assert (await purchases.get_subscription(rt, sub_id)).seats == 3
    remote = await billing.subscription(provider_id)
    assert (remote.items[0].quantity, remote.change_pending) == (3, True)


async def test_what_stripe_cannot_do_here_is_refused_naming_the_field(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    rt, sub_id, provider_id = await _billed(runtime, billing, customer)
    (other,) = await shop.product(rt, shop.per_seat(2000), name="Other")

    with pytest.raises(ValidationFailed) as next_period:
        await change_subscription(rt, sub_id, seats=5, proration_behavior="next_period")
    with pytest.raises(ValidationFailed) as new_price:
        await change_subscription(rt, sub_id, price_id=other, proration_behavior="prorate")

    assert "proration_behavior" in str(next_period.value)
    assert "price_id" in str(new_price.value)
    assert (await purchases.get_subscription(rt, sub_id)).seats == 3
    assert (await billing.subscription(provider_id)).items[0].quantity == 3


async def test_a_cancellation_asked_here_is_made_in_stripe_first(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    rt, sub_id, provider_id = await _billed(runtime, billing, customer)
    rt2, other_id, other_provider = await _billed(runtime, billing, customer)

    await cancellation.cancel_subscription(rt, sub_id, at_period_end=True)
    ended = await cancellation.cancel_subscription(rt2, other_id, at_period_end=False)

    assert (await billing.subscription(provider_id)).cancel_at_period_end is True
    assert (await purchases.get_subscription(rt, sub_id)).cancel_at_period_end is True
    assert (await billing.subscription(other_provider)).status == "canceled"
    assert ended.status == "canceled"
    again = await cancellation.cancel_subscription(rt2, other_id, at_period_end=False)
    assert again.status == "canceled"  # cancelling again changes nothing, here or in Stripe


async def test_members_mode_prorations_are_stripes_not_a_final_invoice_here(
    runtime: Runtime, billing: StripeBilling, customer: str
) -> None:
    rt = replace(runtime, billing=billing)
    (price_id,) = await shop.product(rt, shop.per_seat(1000, seat_sync="members"), name="Chat")
    sub_id = await shop.subscribe(rt, price_id, await shop.company(rt), 1)
    await provider_subscriptions.start_billing(rt, billing, sub_id, customer=customer)
    for n in range(2):
        await seats.assign_seat(rt, subscription_id=sub_id, email=f"p{n}@acme.test")
    assert await shop.waiting(rt.engine, sub_id)  # members mode prorates onto a renewal here
    local_invoices = len(await shop.invoices(rt, sub_id))

    await cancellation.cancel_subscription(rt, sub_id, at_period_end=False)

    assert len(await shop.invoices(rt, sub_id)) == local_invoices
    assert await shop.waiting(rt.engine, sub_id) == []
