"""A change's charge in flight (``change_charges``): written before the charge is sent, settled
with the change. A process killed while the provider answered leaves it behind; the same change
asked again reuses it (``tests/integration/test_crashes.py`` kills a real server there), and
another change, once the charge is older than ``CHARGE_LEASE``, settles it first: sent again
under its key, the money the provider took becomes credit, which the new change then uses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.local import LocalGateway, reference_for
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict
from seatledger.domain.payments import ChangeCharge, PaymentRequest, PaymentResult
from seatledger.services import credit, purchases, subscriptions
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions.change_charges import CHARGE_LEASE
from tests.integration import shop
from tests.integration.shop import utc

LEFT_BEHIND = "subscription:sub_x:change:left-behind"


@pytest.fixture
async def team(runtime: Runtime, clock: FixedClock) -> dict[str, str]:
    """5 seats of a 1000-a-seat monthly price, bought on 2027-01-01; mid-January now."""
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16, 12))
    return {"price_id": price_id, "company_id": company_id, "subscription_id": sub_id}


async def _leave_behind(runtime: Runtime, subscription_id: str, company_id: str) -> None:
    """What a server killed while the provider answered leaves: the charge, not settled."""
    request = PaymentRequest(
        amount=800,
        currency="usd",
        payment_method="pm_card_ok",
        customer=company_id,
        description=f"Subscription {subscription_id}: change",
        idempotency_key=LEFT_BEHIND,
    )
    now = runtime.clock.now()
    async with runtime.transaction() as uow:
        await uow.change_charges.hold(ChangeCharge(subscription_id, request, now, now))
        await uow.commit()


async def test_a_change_leaves_no_charge_in_flight(runtime: Runtime, team: dict[str, str]) -> None:
    sub_id = team["subscription_id"]
    await subscriptions.change_subscription(runtime, sub_id, seats=7, proration_behavior="invoice")
    assert await shop.count(runtime.engine, t.change_charges) == 0
    runtime.gateway = Declining()
    with pytest.raises(Exception, match="declined"):
        await subscriptions.change_subscription(
            runtime, sub_id, seats=9, proration_behavior="invoice"
        )
    assert await shop.count(runtime.engine, t.change_charges) == 0


class Declining(LocalGateway):
    async def charge(self, request: PaymentRequest) -> PaymentResult:
        return PaymentResult(False, failure_reason="Your card was declined.")


async def test_another_change_settles_an_abandoned_charge_as_credit_first(
    runtime: Runtime, team: dict[str, str], clock: FixedClock
) -> None:
    sub_id, company_id = team["subscription_id"], team["company_id"]
    await _leave_behind(runtime, sub_id, company_id)
    clock.set(clock.now() + CHARGE_LEASE + timedelta(seconds=1))

    changed = await subscriptions.change_subscription(
        runtime, sub_id, seats=6, proration_behavior="invoice"
    )
    assert changed.seats == 6
    assert await shop.count(runtime.engine, t.change_charges) == 0
    [left] = await shop.rows(
        runtime.engine, t.payments, t.payments.c.provider_reference == reference_for(LEFT_BEHIND)
    )
    assert (left.amount, left.invoice_id, left.status) == (800, None, "succeeded")
    [update] = await shop.rows(
        runtime.engine, t.invoices, t.invoices.c.reason == "subscription_update"
    )
    # The abandoned charge's money paid for the new change first; what it did not cover is left.
    used = min(800, update.subtotal)
    assert (update.credit_applied, update.total) == (used, update.subtotal - used)
    assert await credit.company_balance(runtime, company_id) == (
        [("usd", 800 - used)] if used < 800 else []
    )


async def test_a_charge_in_flight_for_less_than_the_lease_is_left_to_its_request(
    runtime: Runtime, team: dict[str, str]
) -> None:
    sub_id, company_id = team["subscription_id"], team["company_id"]
    await _leave_behind(runtime, sub_id, company_id)
    await subscriptions.change_subscription(runtime, sub_id, seats=6, proration_behavior="invoice")
    assert await shop.count(runtime.engine, t.change_charges) == 1  # still its own request's
    assert await credit.company_balance(runtime, company_id) == []


async def test_a_charge_already_recorded_is_neither_applied_nor_credited_again(
    runtime: Runtime, team: dict[str, str]
) -> None:
    """Two requests for the same change after a crash both send the charge in flight again:
    the provider answers both with the one charge; the second to record it gets 409."""
    sub_id = team["subscription_id"]
    recording = Recording()
    runtime.gateway = recording
    await subscriptions.change_subscription(runtime, sub_id, seats=6, proration_behavior="invoice")
    assert recording.last is not None
    runtime.gateway = Replaying(recording.last)
    with pytest.raises(Conflict) as caught:
        await subscriptions.change_subscription(
            runtime, sub_id, seats=8, proration_behavior="invoice"
        )
    assert caught.value.code == "subscription_changed"
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 6
    assert await credit.company_balance(runtime, team["company_id"]) == []
    assert await shop.count(runtime.engine, t.change_charges) == 0


class Recording(LocalGateway):
    """The local gateway, keeping its last answer."""

    last: PaymentResult | None = None

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.last = await super().charge(request)
        return self.last


class Replaying(LocalGateway):
    """Answers every charge with one charge already taken."""

    def __init__(self, answer: PaymentResult) -> None:
        super().__init__()
        self.answer = answer

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        return self.answer
