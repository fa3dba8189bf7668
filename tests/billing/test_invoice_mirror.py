"""Stripe's invoices of a subscription it bills, mirrored from its invoice events through
``POST /v1/stripe/webhooks``: kept apart from seatledger's own invoices, with Stripe's number,
status, total and lines as Stripe has them now (events late or out of order change nothing)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from seatledger.adapters.db.provider_invoices import ProviderInvoices
from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.errors import PaymentFailed
from seatledger.services import provider_subscriptions
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import change_subscription
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events

pytestmark = pytest.mark.db

INVOICE_EVENTS = ("invoice.finalized", "invoice.paid", "invoice.payment_failed")


async def test_stripes_invoices_are_mirrored_apart_from_seatledgers(
    server: Server, runtime: Runtime, billing: StripeBilling, customer: str, fake: FakeStripe
) -> None:
    server.runtime.billing = billing
    rt = replace(runtime, billing=billing)
    fake.hold_events()
    (price_id,) = await shop.product(rt, shop.per_seat(1000))
    sub_id = await shop.subscribe(rt, price_id, await shop.company(rt), 3)
    own = await shop.invoices(rt, sub_id)
    await provider_subscriptions.start_billing(rt, billing, sub_id, customer=customer)
    fake.store.declining.add(customer)
    with pytest.raises(PaymentFailed):
        await change_subscription(rt, sub_id, seats=5, proration_behavior="invoice")

    statuses = await fake.deliver(INVOICE_EVENTS, reverse=True, twice=True)
    assert set(statuses) == {200}
    await apply_events(server.runtime)

    async with rt.engine.connect() as connection:
        kept = await ProviderInvoices(connection).of_subscription(sub_id)
    proration, first = sorted(kept, key=lambda row: row.total)
    stripe_invoices = {i["id"]: i for i in fake.objects("invoice")}
    assert (first.status, first.total, first.amount_paid) == ("paid", 3000, 3000)
    assert first.number == stripe_invoices[first.id]["number"]
    prices = await billing.prices.find(price_id)
    assert prices is not None
    assert first.lines == [
        {
            "description": None,
            "amount": 3000,
            "quantity": 3,
            "proration": False,
            "price": prices.seats,
            "kind": "seats",
        }
    ]
    assert (proration.status, proration.amount_paid) == ("open", 0)
    assert proration.lines[0]["proration"] is True
    assert await shop.invoices(rt, sub_id) == own  # seatledger's own invoices: unchanged
