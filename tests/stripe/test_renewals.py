"""Renewals charged off-session through Stripe (the sandbox clock drives time): paid, waiting
for 3-D Secure (the invoice stays open with its link, dunning goes on, Stripe's
``payment_intent.succeeded`` settles it), and Stripe down (nothing lost, charged once)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import PaymentProviderUnavailable
from seatledger.services import checkouts, hosted_checkout, renewals
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events, settle

pytestmark = pytest.mark.db


async def _subscription(rt: Runtime) -> Any:
    async with rt.engine.connect() as c:
        return (await c.execute(select(t.subscriptions))).one()


async def _renewal(rt: Runtime) -> Any:
    async with rt.engine.connect() as c:
        return (
            await c.execute(select(t.invoices).where(t.invoices.c.reason == "subscription_cycle"))
        ).one()


def _renewal_intents(fake: FakeStripe) -> list[dict[str, Any]]:
    return [
        i
        for i in fake.objects("payment_intent")
        if i["metadata"].get("seatledger_key", "").startswith("invoice:")
    ]


async def _bought_on_the_page(server: Server, fake: FakeStripe, card: str) -> Any:
    rt = server.runtime
    (price_id,) = await shop.product(rt)
    company_id = await shop.company(rt)
    checkout = await checkouts.create_checkout(
        rt, price_id=price_id, seats=2, company_id=company_id
    )
    await hosted_checkout.open_hosted_page(rt, checkout.id)
    (session,) = fake.objects("checkout.session")
    assert (await fake.complete_session(session["id"], card)).status_code == 200
    await settle(fake)
    await apply_events(rt)
    return await _subscription(rt)


async def test_a_renewal_is_charged_off_session_with_the_saved_card(
    server: Server, fake: FakeStripe, clock: FixedClock
) -> None:
    rt = server.runtime
    subscription = await _bought_on_the_page(server, fake, "pm_card_visa")
    clock.set(subscription.current_period_end)
    assert await renewals.renew_due(rt) == [subscription.id]
    invoice = await _renewal(rt)
    assert (invoice.status, invoice.total, invoice.payment_url) == ("paid", 2000, None)
    (intent,) = _renewal_intents(fake)
    assert intent["status"] == "succeeded"
    assert intent["payment_method"] == subscription.payment_method
    assert intent["customer"] == fake.objects("customer")[0]["id"]
    assert intent["metadata"]["seatledger_key"] == f"invoice:{invoice.id}:attempt:1"


async def test_a_renewal_needing_authentication_waits_with_its_link_and_follows_dunning(
    server: Server, fake: FakeStripe, clock: FixedClock
) -> None:
    rt = server.runtime
    subscription = await _bought_on_the_page(server, fake, "pm_card_authenticationRequired")
    assert subscription.status == "active"  # on Stripe's page the customer authenticated
    clock.set(subscription.current_period_end)
    await renewals.renew_due(rt)
    invoice = await _renewal(rt)
    (first,) = _renewal_intents(fake)
    assert first["status"] == "requires_action"
    assert invoice.status == "open"
    assert invoice.payment_url == first["next_action"]["redirect_to_url"]["url"]
    shown = (await server.client.get(f"/v1/invoices/{invoice.id}")).json()
    assert shown["payment_url"] == invoice.payment_url
    waiting = await _subscription(rt)
    assert waiting.status == "past_due"
    assert waiting.next_payment_attempt_at == clock.now() + timedelta(days=1)
    await settle(fake)
    await apply_events(rt)  # payment_intent.payment_failed: re-read, still waiting: nothing
    assert (await _renewal(rt)).payment_url == invoice.payment_url

    clock.advance(timedelta(days=1))  # the first retry: a new attempt, a new link
    await renewals.renew_due(rt)
    first_retry, second = _renewal_intents(fake)
    assert first_retry["id"] == first["id"]
    assert (await _renewal(rt)).payment_url == second["next_action"]["redirect_to_url"]["url"]
    assert (await _subscription(rt)).payment_attempts == 2

    assert (await fake.authenticate(second["id"])).status_code == 200
    await settle(fake)
    await apply_events(rt)
    paid = await _renewal(rt)
    assert (paid.status, paid.payment_url) == ("paid", None)
    recovered = await _subscription(rt)
    assert (recovered.status, recovered.payment_attempts, recovered.past_due_since) == (
        "active",
        0,
        None,
    )
    await apply_events(rt)  # nothing left, nothing applied twice
    async with rt.engine.connect() as c:
        succeeded = (
            await c.execute(select(t.payments).where(t.payments.c.status == "succeeded"))
        ).all()
        paid_events = (
            await c.execute(select(t.outbox).where(t.outbox.c.type == "invoice.paid"))
        ).all()
    assert [p.provider_reference for p in succeeded if p.invoice_id == paid.id] == [second["id"]]
    assert len(paid_events) == 2  # the first invoice's, and this one's once


async def test_stripe_down_at_renewal_loses_nothing_and_charges_once(
    server: Server, fake: FakeStripe, clock: FixedClock
) -> None:
    rt = server.runtime
    subscription = await _bought_on_the_page(server, fake, "pm_card_visa")
    clock.set(subscription.current_period_end)
    fake.store.knobs.down = True
    with pytest.raises(PaymentProviderUnavailable):
        await renewals.renew_due(rt)
    invoice = await _renewal(rt)
    assert invoice.status == "open"
    assert (await _subscription(rt)).status == "active"  # nothing was decided
    fake.store.knobs.down = False
    # Stripe takes the charge, then every answer is lost (the SDK's retries too).
    fake.fail_next(1, 500, after=True)
    fake.fail_next(2, 500)
    clock.advance(timedelta(minutes=11))  # the attempt's lease has expired
    with pytest.raises(PaymentProviderUnavailable):
        await renewals.renew_due(rt)
    assert (await _renewal(rt)).status == "open"
    clock.advance(timedelta(minutes=11))
    await renewals.renew_due(rt)  # the same key again: Stripe answers the first charge
    assert (await _renewal(rt)).status == "paid"
    (intent,) = _renewal_intents(fake)
    assert intent["status"] == "succeeded"
    assert (await _subscription(rt)).status == "active"


async def test_a_failed_authentication_drops_the_link_and_dunning_goes_on(
    server: Server, fake: FakeStripe, clock: FixedClock
) -> None:
    rt = server.runtime
    subscription = await _bought_on_the_page(server, fake, "pm_card_authenticationRequired")
    clock.set(subscription.current_period_end)
    await renewals.renew_due(rt)
    (intent,) = _renewal_intents(fake)
    assert (await _renewal(rt)).payment_url is not None
    assert (await fake.authenticate(intent["id"], "fail")).status_code == 200
    await settle(fake)
    await apply_events(rt)
    invoice = await _renewal(rt)
    assert (invoice.status, invoice.payment_url) == ("open", None)
    waiting = await _subscription(rt)
    assert waiting.status == "past_due"
    assert waiting.next_payment_attempt_at == clock.now() + timedelta(days=1)
