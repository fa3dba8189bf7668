"""SPEC §3: cancelling now or at the end of the period; the final invoice; cancelling again."""

from __future__ import annotations

import pytest

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict, ValidationFailed
from seatledger.domain.purchase import PendingChange
from seatledger.services import (
    cancellation,
    credit,
    entitlements,
    grants,
    purchases,
    renewals,
    seats,
    subscriptions,
)
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc


@pytest.fixture
async def held(runtime: Runtime, clock: FixedClock) -> dict[str, str]:
    """5 seats bought on Jan 1, one claimed (with its benefit) and one pending; Jan 16 now."""
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 5, at=utc(2027, 1, 1), clock=clock)
    claimed = await seats.assign_seat(
        runtime, subscription_id=sub_id, email="ann@acme.test", immediate_claim=True
    )
    pending = await seats.assign_seat(runtime, subscription_id=sub_id, email="bob@acme.test")
    assert claimed.member_id is not None
    clock.set(utc(2027, 1, 16))
    return {
        "subscription_id": sub_id,
        "company_id": company_id,
        "claimed": claimed.id,
        "pending": pending.id,
        "member_id": claimed.member_id,
    }


async def _live_grants(runtime: Runtime, member_id: str) -> int:
    view = await grants.member_entitlements(runtime, member_id)
    return sum(len(product.benefits) for product in view.products)


async def test_cancel_now_revokes_every_seat_and_benefit_at_once(
    runtime: Runtime, clock: FixedClock, held: dict[str, str]
) -> None:
    sub_id = held["subscription_id"]
    assert await _live_grants(runtime, held["member_id"]) == 1
    sub = await cancellation.cancel_subscription(runtime, sub_id, at_period_end=False)
    assert (sub.status, sub.canceled_at, sub.assigned_seats) == ("canceled", utc(2027, 1, 16), 0)
    for seat_id in (held["claimed"], held["pending"]):
        seat = await seats.get_seat(runtime, seat_id)
        assert (seat.status, seat.revoked_at) == ("revoked", utc(2027, 1, 16))
    assert await _live_grants(runtime, held["member_id"]) == 0
    assert len(await shop.invoices(runtime, sub_id)) == 1  # nothing waiting: no final invoice
    view = await entitlements.company_entitlements(runtime, held["company_id"])
    assert view.seats.limit == 0
    # Cancelling again answers the same subscription and changes nothing.
    events = await shop.count(runtime.engine, t.outbox)
    again = await cancellation.cancel_subscription(runtime, sub_id, at_period_end=False)
    assert again == sub
    assert await cancellation.cancel_subscription(runtime, sub_id, at_period_end=True) == sub
    assert await shop.count(runtime.engine, t.outbox) == events
    # Never renewed; no more changes; seats no longer assignable.
    clock.set(utc(2027, 3, 1))
    assert await renewals.renew_due(runtime) == []
    with pytest.raises(Conflict) as changed:
        await subscriptions.change_subscription(runtime, sub_id, seats=6)
    assert changed.value.code == "subscription_not_active"
    with pytest.raises(Conflict) as undo:
        await subscriptions.change_subscription(runtime, sub_id, cancel_at_period_end=False)
    assert undo.value.code == "subscription_not_active"
    with pytest.raises(Conflict):
        await seats.assign_seat(runtime, subscription_id=sub_id, email="cy@acme.test")


async def test_waiting_lines_are_billed_on_a_final_invoice(
    runtime: Runtime, held: dict[str, str]
) -> None:
    sub_id = held["subscription_id"]
    await subscriptions.change_subscription(
        runtime, sub_id, seats=8, proration_behavior="prorate"
    )  # +3000 × 16/31
    assert await shop.waiting(runtime.engine, sub_id) == [1548]
    await cancellation.cancel_subscription(runtime, sub_id, at_period_end=False)
    final = (await shop.invoices(runtime, sub_id))[-1]
    assert (final.reason, final.status, final.total) == ("subscription_cancel", "paid", 1548)
    assert await shop.waiting(runtime.engine, sub_id) == []
    [payment] = await shop.rows(runtime.engine, t.payments, t.payments.c.invoice_id == final.id)
    assert payment.status == "succeeded"


async def test_a_net_credit_at_cancellation_goes_to_the_balance(
    runtime: Runtime, held: dict[str, str]
) -> None:
    sub_id = held["subscription_id"]
    await subscriptions.change_subscription(runtime, sub_id, seats=2)  # −3000 × 16/31
    await cancellation.cancel_subscription(runtime, sub_id, at_period_end=False)
    final = (await shop.invoices(runtime, sub_id))[-1]
    assert (final.subtotal, final.total, final.status) == (-1548, 0, "paid")
    assert await credit.company_balance(runtime, held["company_id"]) == [("usd", 1548)]


async def test_cancel_at_period_end_keeps_seats_until_the_end(
    runtime: Runtime, clock: FixedClock, held: dict[str, str]
) -> None:
    sub_id = held["subscription_id"]
    await subscriptions.change_subscription(
        runtime, sub_id, seats=3, proration_behavior="next_period"
    )
    sub = await cancellation.cancel_subscription(runtime, sub_id, at_period_end=True)
    assert (sub.status, sub.cancel_at_period_end, sub.pending_change) == ("active", True, None)
    with pytest.raises(Conflict) as caught:
        await subscriptions.change_subscription(runtime, sub_id, seats=6)
    assert caught.value.code == "subscription_not_active"
    # Seats stay usable and assignable until the end.
    extra = await seats.assign_seat(runtime, subscription_id=sub_id, email="cy@acme.test")
    assert extra.status == "pending"
    assert await _live_grants(runtime, held["member_id"]) == 1

    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == []
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.status, sub.canceled_at, sub.assigned_seats) == ("canceled", utc(2027, 2, 1), 0)
    assert await _live_grants(runtime, held["member_id"]) == 0
    assert len(await shop.invoices(runtime, sub_id)) == 1
    assert len(await shop.events(runtime.engine, "subscription.canceled")) == 1
    clock.set(utc(2027, 3, 1))
    assert await renewals.renew_due(runtime) == []


async def test_a_scheduled_cancellation_can_be_undone_before_the_end(
    runtime: Runtime, clock: FixedClock, held: dict[str, str]
) -> None:
    sub_id = held["subscription_id"]
    await cancellation.cancel_subscription(runtime, sub_id, at_period_end=True)
    sub = await subscriptions.change_subscription(runtime, sub_id, cancel_at_period_end=False)
    assert (sub.cancel_at_period_end, sub.status) == (False, "active")
    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await subscriptions.change_subscription(
        runtime, sub_id, cancel_at_period_end=True, seats=4, proration_behavior="next_period"
    )
    assert (sub.cancel_at_period_end, sub.pending_change) == (True, None)


async def test_cancellation_needs_a_boolean(runtime: Runtime, held: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        await cancellation.cancel_subscription(
            runtime,
            held["subscription_id"],
            at_period_end="yes",  # type: ignore[arg-type]
        )


async def test_a_pending_change_is_dropped_by_a_cancellation(
    runtime: Runtime, held: dict[str, str]
) -> None:
    sub_id = held["subscription_id"]
    sub = await subscriptions.change_subscription(
        runtime, sub_id, seats=9, proration_behavior="next_period"
    )
    assert sub.pending_change == PendingChange(9, sub.price_id, utc(2027, 2, 1))
    sub = await cancellation.cancel_subscription(runtime, sub_id, at_period_end=False)
    assert sub.pending_change is None
