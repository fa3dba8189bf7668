"""One card charged per checkout: two concurrent confirmations with different cards charge
once (the lease is a conditional update in the database), a declined card gives the checkout
back to the next card, and a checkout being charged cannot be resized."""

from __future__ import annotations

import asyncio

import pytest

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.domain.errors import Conflict, PaymentFailed
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.services import checkouts
from seatledger.services.runtime import Runtime
from tests.integration import shop


class HeldGateway(LocalGateway):
    """The local gateway, whose charges wait until ``release`` is set: a provider still
    answering while another request arrives. ``charges`` lists every request it received."""

    def __init__(self) -> None:
        super().__init__()
        self.charges: list[PaymentRequest] = []
        self.asked = asyncio.Event()
        self.release = asyncio.Event()

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.charges.append(request)
        self.asked.set()
        await self.release.wait()
        return await super().charge(request)


async def _checkout(rt: Runtime) -> str:
    (price_id,) = await shop.product(rt)
    company_id = await shop.company(rt)
    return (
        await checkouts.create_checkout(rt, price_id=price_id, seats=2, company_id=company_id)
    ).id


async def test_two_concurrent_confirms_with_different_cards_charge_once(
    runtime: Runtime, database_url: str
) -> None:
    checkout_id = await _checkout(runtime)
    gateway = HeldGateway()
    first = Runtime(
        engine=runtime.engine, clock=runtime.clock, settings=runtime.settings, gateway=gateway
    )
    # The second request comes through another connection pool, as from another process.
    second = Runtime(
        engine=create_engine(database_url),
        clock=runtime.clock,
        settings=runtime.settings,
        gateway=gateway,
    )
    try:
        paying = asyncio.create_task(
            checkouts.confirm_checkout(first, checkout_id, payment_method="pm_card_ok")
        )
        await asyncio.wait_for(gateway.asked.wait(), 10)
        with pytest.raises(Conflict) as refused:
            # Bounded: a second charge would wait on the held provider instead of failing.
            await asyncio.wait_for(
                checkouts.confirm_checkout(
                    second, checkout_id, payment_method="pm_card_fail_after_first"
                ),
                10,
            )
        gateway.release.set()
        done = await paying
    finally:
        await second.engine.dispose()
    assert refused.value.code == "checkout_not_open"
    assert done.status == "completed"
    assert [c.payment_method for c in gateway.charges] == ["pm_card_ok"]
    [payment] = await shop.rows(runtime.engine, t.payments)
    assert (payment.status, payment.amount) == ("succeeded", 2000)
    assert await shop.count(runtime.engine, t.subscriptions) == 1


async def test_the_same_card_twice_at_once_is_one_charge_and_one_purchase(
    runtime: Runtime,
) -> None:
    checkout_id = await _checkout(runtime)
    gateway = HeldGateway()
    rt = Runtime(
        engine=runtime.engine, clock=runtime.clock, settings=runtime.settings, gateway=gateway
    )
    tasks = [
        asyncio.create_task(
            checkouts.confirm_checkout(rt, checkout_id, payment_method="pm_card_ok")
        )
        for _ in range(2)
    ]
    while len(gateway.charges) < 2:  # both passed the lease: the same card is let through
        await asyncio.sleep(0.01)
    gateway.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["Checkout", "CheckoutNotOpen"]
    # One key, so the provider charged once; one payment row.
    assert len({c.idempotency_key for c in gateway.charges}) == 1
    assert await shop.count(runtime.engine, t.payments) == 1


async def test_a_declined_card_hands_the_checkout_to_the_next_card(runtime: Runtime) -> None:
    checkout_id = await _checkout(runtime)
    with pytest.raises(PaymentFailed):
        await checkouts.confirm_checkout(runtime, checkout_id, payment_method="pm_card_declined")
    done = await checkouts.confirm_checkout(runtime, checkout_id, payment_method="pm_card_ok")
    assert done.status == "completed"
    statuses = sorted(row.status for row in await shop.rows(runtime.engine, t.payments))
    assert statuses == ["failed", "succeeded"]


async def test_a_checkout_being_charged_cannot_be_resized(runtime: Runtime) -> None:
    checkout_id = await _checkout(runtime)
    gateway = HeldGateway()
    rt = Runtime(
        engine=runtime.engine, clock=runtime.clock, settings=runtime.settings, gateway=gateway
    )
    paying = asyncio.create_task(
        checkouts.confirm_checkout(rt, checkout_id, payment_method="pm_card_ok")
    )
    await asyncio.wait_for(gateway.asked.wait(), 10)
    with pytest.raises(Conflict):
        await checkouts.update_checkout(runtime, checkout_id, seats=5)
    gateway.release.set()
    await paying
    [row] = await shop.rows(runtime.engine, t.checkouts)
    assert (row.seats, row.amount_due, row.status) == (2, 2000, "completed")
