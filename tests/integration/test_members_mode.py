"""SPEC §5 ``seat_sync: "members"``: the pool follows its people, billed by the product's
defaults; the billing manager holds a seat from purchase."""

from __future__ import annotations

import asyncio

import pytest

from seatledger.adapters.db import tables as t
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import Conflict
from seatledger.services import (
    cancellation,
    checkouts,
    companies,
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


async def _members_price(runtime: Runtime, **more: object) -> str:
    (price_id,) = await shop.product(
        runtime, shop.per_seat(1000, seat_sync="members", **more), name="Chat"
    )
    return price_id


@pytest.fixture
async def chat(runtime: Runtime, clock: FixedClock) -> dict[str, str]:
    """2 members-mode seats (max 4) bought on Jan 1 by Acme; Jan 16 now."""
    price_id = await _members_price(runtime, maximum_seats=4)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2, at=utc(2027, 1, 1), clock=clock)
    clock.set(utc(2027, 1, 16))
    return {"price_id": price_id, "company_id": company_id, "subscription_id": sub_id}


async def test_the_billing_manager_holds_a_claimed_seat_from_purchase(
    runtime: Runtime, chat: dict[str, str]
) -> None:
    sub = await purchases.get_subscription(runtime, chat["subscription_id"])
    assert (sub.seats, sub.assigned_seats) == (2, 1)
    page = await seats.list_seats(runtime, subscription_id=sub.id)
    [seat] = page.page.data
    company = await companies.get_company(runtime, chat["company_id"])
    assert (seat.status, seat.member_id, seat.email) == (
        "claimed",
        company.billing_manager_member_id,
        "boss@acme.test",
    )
    held = await grants.member_entitlements(runtime, company.billing_manager_member_id)
    assert [len(p.benefits) for p in held.products] == [1]


async def test_an_owner_scoped_purchase_gives_the_seat_when_it_attaches(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await _members_price(runtime)
    checkout = await checkouts.create_checkout(
        runtime, price_id=price_id, seats=1, customer_email="Early@Acme.test"
    )
    done = await checkouts.confirm_checkout(runtime, checkout.id, payment_method="pm_card_ok")
    assert done.subscription_id is not None
    assert (await purchases.get_subscription(runtime, done.subscription_id)).assigned_seats == 0
    company = await companies.create_company(
        runtime, name="Acme", billing_manager_email="early@acme.test"
    )
    sub = await purchases.get_subscription(runtime, done.subscription_id)
    assert (sub.company_id, sub.assigned_seats) == (company.id, 1)
    [seat] = (await seats.list_seats(runtime, subscription_id=sub.id)).page.data
    assert (seat.status, seat.member_id) == ("claimed", company.billing_manager_member_id)


async def test_a_manual_pool_gives_the_manager_nothing(runtime: Runtime, clock: FixedClock) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2)
    assert (await purchases.get_subscription(runtime, sub_id)).assigned_seats == 0
    assert await shop.count(runtime.engine, t.seats) == 0


async def test_a_full_pool_grows_prorated_up_to_its_maximum(
    runtime: Runtime, chat: dict[str, str]
) -> None:
    sub_id = chat["subscription_id"]
    await seats.assign_seat(runtime, subscription_id=sub_id, email="a@acme.test")  # the free one
    assert await shop.waiting(runtime.engine, sub_id) == []
    for email in ("b@acme.test", "c@acme.test"):
        await seats.assign_seat(runtime, subscription_id=sub_id, email=email)
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.seats, sub.assigned_seats) == (4, 4)
    # Each growth is prorated onto the next renewal (1000 × 16/31), not charged now.
    assert await shop.waiting(runtime.engine, sub_id) == [516, 516]
    assert len(await shop.invoices(runtime, sub_id)) == 1
    with pytest.raises(Conflict) as caught:
        await seats.assign_seat(runtime, subscription_id=sub_id, email="d@acme.test")
    assert caught.value.code == "seat_limit_reached"
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 4


async def test_a_revocation_shrinks_the_pool_never_below_its_minimum(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await _members_price(runtime, minimum_seats=2)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 2, at=utc(2027, 1, 1), clock=clock)
    a = await seats.assign_seat(runtime, subscription_id=sub_id, email="a@acme.test")
    b = await seats.assign_seat(runtime, subscription_id=sub_id, email="b@acme.test")
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 3
    clock.set(utc(2027, 1, 16))
    await seats.revoke_seat(runtime, b.id)
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 2
    assert await shop.waiting(runtime.engine, sub_id) == [1000, -516]
    await seats.revoke_seat(runtime, a.id)
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.seats, sub.assigned_seats) == (2, 1)  # the minimum holds
    assert await shop.waiting(runtime.engine, sub_id) == [1000, -516]
    # Revoking the same seat again changes nothing.
    await seats.revoke_seat(runtime, b.id)
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 2


async def test_removing_a_member_shrinks_the_pool(runtime: Runtime, chat: dict[str, str]) -> None:
    sub_id = chat["subscription_id"]
    member = await companies.add_member(runtime, chat["company_id"], email="m@acme.test")
    await seats.assign_seat(runtime, subscription_id=sub_id, member_id=member.id)
    await seats.assign_seat(runtime, subscription_id=sub_id, email="x@acme.test")
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 3
    await companies.remove_member(runtime, chat["company_id"], member.id)
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 2


async def test_simultaneous_invitations_each_grow_the_pool_once(
    runtime: Runtime, clock: FixedClock
) -> None:
    price_id = await _members_price(runtime, maximum_seats=8)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(runtime, price_id, company_id, 1, at=utc(2027, 1, 1), clock=clock)

    async def invite(n: int) -> str:
        try:
            await seats.assign_seat(runtime, subscription_id=sub_id, email=f"p{n}@acme.test")
        except Conflict as error:
            return error.code
        return "ok"

    outcomes = await asyncio.gather(*(invite(n) for n in range(10)))
    assert outcomes.count("ok") == 7
    assert outcomes.count("seat_limit_reached") == 3
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.seats, sub.assigned_seats) == (8, 8)
    assert len(await shop.waiting(runtime.engine, sub_id)) == 7


async def test_the_renewal_recounts_the_pool_and_bills_the_growth(
    runtime: Runtime, clock: FixedClock, chat: dict[str, str]
) -> None:
    sub_id = chat["subscription_id"]
    await subscriptions.change_subscription(runtime, sub_id, seats=4)  # bought ahead: 2 free
    await seats.assign_seat(runtime, subscription_id=sub_id, email="a@acme.test")
    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(runtime) == [sub_id]
    sub = await purchases.get_subscription(runtime, sub_id)
    assert (sub.seats, sub.assigned_seats) == (2, 2)
    renewal = (await shop.invoices(runtime, sub_id))[-1]
    assert [(x.kind, x.quantity, x.amount) for x in renewal.lines][:1] == [("seats", 2, 2000)]


async def test_members_follow_while_the_subscription_cancels_at_period_end(
    runtime: Runtime, clock: FixedClock, chat: dict[str, str]
) -> None:
    sub_id = chat["subscription_id"]
    await cancellation.cancel_subscription(runtime, sub_id, at_period_end=True)
    await seats.assign_seat(runtime, subscription_id=sub_id, email="a@acme.test")
    grown = await seats.assign_seat(runtime, subscription_id=sub_id, email="b@acme.test")
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 3
    assert await shop.waiting(runtime.engine, sub_id) == [516]
    clock.set(utc(2027, 2, 1))
    await renewals.renew_due(runtime)
    final = (await shop.invoices(runtime, sub_id))[-1]
    assert (final.reason, final.total, final.status) == ("subscription_cancel", 516, "paid")
    assert (await seats.get_seat(runtime, grown.id)).status == "revoked"


async def test_a_members_pool_counts_as_its_maximum(runtime: Runtime, chat: dict[str, str]) -> None:
    view = await entitlements.company_entitlements(runtime, chat["company_id"])
    assert (view.seats.limit, view.seats.used, view.seats.available) == (4, 1, 3)
