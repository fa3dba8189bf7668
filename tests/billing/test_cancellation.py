"""Cancelling a subscription Stripe bills (SPEC §3 and §7, ``billing`` mode), both ways: a
cancellation at period end scheduled or undone through ``PATCH`` and a cancellation now through
``POST …/cancel`` are made in Stripe first (now: Stripe invoices the prorations it holds and
refunds nothing of the period); one made in Stripe's dashboard arrives by webhook."""

from __future__ import annotations

import pytest

from seatledger.adapters.db.provider_billing import ProviderSubscriptions
from seatledger.adapters.payments.stripe_billing import StripeBilling
from tests.fakes.stripe import FakeStripe
from tests.fakes.stripe.invoices import subscription_of
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events, settle

pytestmark = pytest.mark.db


async def _billed(server: Server, billing: StripeBilling) -> tuple[str, str]:
    """A subscription bought through the API in ``billing`` mode and started in Stripe;
    answers its id and Stripe's."""
    server.runtime.billing = billing
    rt = server.runtime
    (price_id,) = await shop.product(rt, shop.per_seat(1000))
    created = await server.client.post(
        "/v1/checkouts",
        json={"price_id": price_id, "seats": 3, "company_id": await shop.company(rt)},
    )
    confirmed = await server.client.post(
        f"/v1/checkouts/{created.json()['id']}/confirm", json={"payment_method": "pm_card_visa"}
    )
    sub_id = confirmed.json()["subscription_id"]
    await apply_events(rt)
    link = await ProviderSubscriptions(rt.engine, "stripe").of(sub_id)
    assert link is not None
    return sub_id, link.provider_subscription_id


async def _patch(server: Server, sub_id: str, **body: object) -> dict[str, object]:
    response = await server.client.patch(f"/v1/subscriptions/{sub_id}", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def test_a_patch_schedules_and_undoes_the_cancellation_in_stripe(
    server: Server, billing: StripeBilling, fake: FakeStripe
) -> None:
    sub_id, provider_id = await _billed(server, billing)
    updates = fake.count("POST", f"/v1/subscriptions/{provider_id}")

    assert (await _patch(server, sub_id, cancel_at_period_end=True))["cancel_at_period_end"]
    assert (await billing.subscription(provider_id)).cancel_at_period_end is True
    await _patch(server, sub_id, cancel_at_period_end=True)  # changes nothing: nothing asked
    assert fake.count("POST", f"/v1/subscriptions/{provider_id}") == updates + 1

    undone = await _patch(server, sub_id, cancel_at_period_end=False)
    assert undone["cancel_at_period_end"] is False
    assert (await billing.subscription(provider_id)).cancel_at_period_end is False

    # Undone together with a seat change: both reach Stripe.
    await _patch(server, sub_id, cancel_at_period_end=True)
    both = await _patch(
        server, sub_id, seats=4, proration_behavior="prorate", cancel_at_period_end=False
    )
    assert (both["seats"], both["cancel_at_period_end"]) == (4, False)
    remote = await billing.subscription(provider_id)
    assert (remote.items[0].quantity, remote.cancel_at_period_end) == (4, False)


async def test_cancel_now_bills_stripes_waiting_prorations_and_refunds_nothing(
    server: Server, billing: StripeBilling, fake: FakeStripe
) -> None:
    sub_id, provider_id = await _billed(server, billing)
    await _patch(server, sub_id, seats=5, proration_behavior="prorate")
    ((_, waiting),) = [p for p in fake.store.pending_prorations if p[0] == provider_id]
    assert waiting > 0

    response = await server.client.post(
        f"/v1/subscriptions/{sub_id}/cancel", json={"at_period_end": False}
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled"
    assert (await billing.subscription(provider_id)).status == "canceled"
    final = [
        i
        for i in fake.objects("invoice")
        if subscription_of(i) == provider_id and i["billing_reason"] != "subscription_create"
    ]
    assert [(i["total"], i["status"]) for i in final] == [(waiting, "paid")]  # no credit line
    again = await server.client.post(
        f"/v1/subscriptions/{sub_id}/cancel", json={"at_period_end": False}
    )
    assert again.status_code == 200
    assert again.json()["status"] == "canceled"


async def test_a_cancellation_scheduled_and_undone_in_stripe_arrives_by_webhook(
    server: Server, billing: StripeBilling, fake: FakeStripe
) -> None:
    sub_id, provider_id = await _billed(server, billing)
    dashboard = billing.client.v1.subscriptions

    await dashboard.update_async(provider_id, {"cancel_at_period_end": True})
    await settle(fake)
    await apply_events(server.runtime)
    shown = (await server.client.get(f"/v1/subscriptions/{sub_id}")).json()
    assert (shown["status"], shown["cancel_at_period_end"]) == ("active", True)

    await dashboard.update_async(provider_id, {"cancel_at_period_end": False})
    await settle(fake)
    await apply_events(server.runtime)
    shown = (await server.client.get(f"/v1/subscriptions/{sub_id}")).json()
    assert shown["cancel_at_period_end"] is False
