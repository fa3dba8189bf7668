"""One flow, every payment provider: the part of a seat subscription's life that does not depend
on who collects the money (SPEC §3, §5) is the same with the ``local`` gateway, Stripe in
``payments`` mode (seatledger bills, Stripe charges) and Stripe in ``billing`` mode (Stripe
bills). The expected values are written once; where a provider genuinely differs the difference
is asserted, and says why."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest

from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.clock import FixedClock
from seatledger.domain.invoice import Invoice
from seatledger.services import claims, grants, provider_subscriptions, renewals, seats
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import change_subscription
from tests.billing.conftest import billing, customer
from tests.fakes.stripe import FakeStripe
from tests.fakes.stripe.invoices import subscription_of
from tests.integration import shop

__all__ = ["billing", "customer"]

pytestmark = pytest.mark.db

START = shop.utc(2026, 1, 1)  # a 31-day first period: January
RAISED_AT = START + timedelta(days=15)  # 16 of its 31 days left
PERIOD_END = shop.utc(2026, 2, 1)

# The money, whoever collects it (volume tiers: up to 5 seats at 1000 each).
FIRST_INVOICE = 3 * 1000
SEAT_CHANGE_INVOICE = 1032  # two seats more for 16 of 31 days: 2000 × 16/31, rounded
RENEWAL_INVOICE = 5 * 1000

# The pool (seats, assigned) after each step.
BOUGHT = (3, 0)
ASSIGNED = (3, 2)
RAISED = (5, 2)
REVOKED = (5, 1)


@dataclass
class Provider:
    name: str
    rt: Runtime
    card: str  # what the customer pays the checkout with
    billing: StripeBilling | None = None  # billing mode: Stripe bills the subscription
    customer: str = ""


PROVIDERS = ["local", "stripe-payments", "stripe-billing"]


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest, runtime: Runtime) -> Provider:
    if request.param == "local":
        return Provider("local", runtime, "pm_card_ok")
    if request.param == "stripe-payments":
        return Provider(
            "stripe-payments", request.getfixturevalue("stripe_runtime"), "pm_card_visa"
        )
    adapter: StripeBilling = request.getfixturevalue("billing")
    # billing mode: the first payment is taken at checkout, then Stripe's subscription starts
    # on the saved card (tests/billing/conftest.py's ``customer``).
    return Provider(
        "stripe-billing",
        replace(runtime, billing=adapter),
        "pm_card_ok",
        billing=adapter,
        customer=request.getfixturevalue("customer"),
    )


async def _pool(rt: Runtime, subscription_id: str) -> tuple[int, int]:
    pool = await seats.get_pool(rt, seats.pool_of(subscription_id, None))
    return pool.seats, pool.assigned_seats


async def _by_reason(rt: Runtime, subscription_id: str) -> dict[str, list[Invoice]]:
    found: dict[str, list[Invoice]] = {}
    for invoice in await shop.invoices(rt, subscription_id):
        if invoice.provider is None:  # seatledger's own, not a mirror of Stripe's
            found.setdefault(invoice.reason, []).append(invoice)
    return found


def _stripe_invoices(fake: FakeStripe, provider_id: str) -> list[dict[str, Any]]:
    return [i for i in fake.objects("invoice") if subscription_of(i) == provider_id]


def _paid(invoices: list[Invoice]) -> list[int]:
    return [i.total for i in invoices if i.status == "paid"]


async def test_a_seat_subscription_lives_the_same_with_every_provider(
    provider: Provider, clock: FixedClock, fake: FakeStripe
) -> None:
    rt = provider.rt
    (price_id,) = await shop.product(
        rt, {"currency": "usd", "interval": "month", "tiers": shop.VOLUME}
    )
    company_id = await shop.company(rt)
    sub_id = await shop.subscribe(
        rt, price_id, company_id, 3, at=START, clock=clock, payment_method=provider.card
    )
    assert await _pool(rt, sub_id) == BOUGHT
    assert _paid((await _by_reason(rt, sub_id))["subscription_create"]) == [FIRST_INVOICE]
    provider_id = ""
    if provider.billing is not None:
        remote = await provider_subscriptions.start_billing(
            rt, provider.billing, sub_id, customer=provider.customer
        )
        provider_id = remote.id
        assert [item.quantity for item in remote.items] == [BOUGHT[0]]
        # Started here without the anchor a checkout's start sets at the end of the period it
        # paid (the fake runs on the wall clock, not the sandbox's, and refuses an anchor in
        # its past), so Stripe bills a first period of its own, for the same money.
        (first,) = _stripe_invoices(fake, provider_id)
        assert (first["status"], first["total"]) == ("paid", FIRST_INVOICE)

    ada = await seats.assign_seat(rt, subscription_id=sub_id, email="ada@acme.test")
    bob = await seats.assign_seat(rt, subscription_id=sub_id, email="bob@acme.test")
    assert (ada.status, bob.status) == ("pending", "pending")
    assert ada.invitation is not None
    claimed = await claims.claim_seat(rt, ada.invitation.token)
    assert claimed.seat.status == "claimed"
    assert [g.benefit_type for g in claimed.grants] == ["custom"]
    assert await _pool(rt, sub_id) == ASSIGNED

    clock.set(RAISED_AT)
    raised = await change_subscription(rt, sub_id, seats=5, proration_behavior="invoice")
    assert raised.seats == 5
    assert await _pool(rt, sub_id) == RAISED
    changes = _paid((await _by_reason(rt, sub_id)).get("subscription_update", []))
    if provider.billing is None:
        assert changes == [SEAT_CHANGE_INVOICE]
    else:
        # Stripe bills the change on its own invoice: seatledger makes none.
        assert changes == []
        remote = await provider.billing.subscription(provider_id)
        assert [item.quantity for item in remote.items] == [5]
        # Stripe prorates on its own clock (the wall clock), where its period began moments
        # ago: the two seats for about the whole period, not seatledger's 16 of 31 days.
        _, proration = _stripe_invoices(fake, provider_id)
        assert proration["status"] == "paid"
        assert SEAT_CHANGE_INVOICE < proration["total"] <= 2 * 1000

    revoked = await seats.revoke_seat(rt, bob.id)
    assert revoked.status == "revoked"
    assert await _pool(rt, sub_id) == REVOKED
    assert (await seats.get_seat(rt, ada.id)).status == "claimed"
    held = await grants.member_entitlements(rt, claimed.seat.member_id or "")
    assert [(p.seat_ids, [g.benefit_type for g in p.benefits]) for p in held.products] == [
        ((ada.id,), ["custom"])
    ]

    clock.set(PERIOD_END + timedelta(hours=1))
    renewed = await renewals.renew_due(rt)
    assert await _pool(rt, sub_id) == REVOKED  # a renewal keeps the pool as it was
    if provider.billing is None:
        assert renewed == [sub_id]
        cycle = (await _by_reason(rt, sub_id))["subscription_cycle"]
        assert _paid(cycle) == [RENEWAL_INVOICE]
    else:
        # Stripe renews and duns a subscription it bills; seatledger leaves it alone, and what
        # Stripe will bill for is the pool's seat count it was given.
        assert renewed == []
        assert "subscription_cycle" not in await _by_reason(rt, sub_id)
        remote = await provider.billing.subscription(provider_id)
        assert [item.quantity for item in remote.items] == [RAISED[0]]

    collected = [i["amount"] for i in fake.objects("payment_intent") if i["status"] == "succeeded"]
    if provider.name == "stripe-payments":  # Stripe charged each of seatledger's invoices
        assert collected == [FIRST_INVOICE, SEAT_CHANGE_INVOICE, RENEWAL_INVOICE]
    if provider.name == "local":
        assert collected == []
