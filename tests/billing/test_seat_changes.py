"""A seat change of a subscription Stripe bills (PATCH's use case): pushed to Stripe with the
behaviour's proration, and followed here only once Stripe applied it (SPEC §3's ``invoice``:
a failed payment leaves the change unapplied on both sides); what Stripe cannot do here is a
clear 422."""

from __future__ import annotations

from dataclasses import replace

import pytest

from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.errors import PaymentFailed, ValidationFailed
from seatledger.services import provider_subscriptions, purchases
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import change_subscription
from tests.fakes.stripe import FakeStripe
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
    return [i for i in fake.objects("invoice") if i["subscription"] == provider_id]


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
