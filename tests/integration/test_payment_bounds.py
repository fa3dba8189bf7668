"""Bounds on payments: a renewal run sends at most ``payment_concurrency`` charges to the
provider at once, and the local gateway keeps a bounded number of answers."""

from __future__ import annotations

import asyncio

from seatledger.adapters.payments import local
from seatledger.adapters.payments.local import LocalGateway
from seatledger.domain.clock import FixedClock
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.services import renewals
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.shop import utc


class GaugedGateway(LocalGateway):
    """The local gateway, measuring how many charges it is answering at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most = 0
        self.charged = 0

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await asyncio.sleep(0.005)  # a provider takes a while to answer
            self.charged += 1
            return await super().charge(request)
        finally:
            self.in_flight -= 1


async def test_a_renewal_run_bounds_its_concurrent_charges(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    clock.set(utc(2027, 1, 1))
    subs = [
        await shop.subscribe(runtime, price_id, await shop.company(runtime, f"b{n}@a.test"), 1)
        for n in range(24)
    ]
    gateway = GaugedGateway()
    rt = Runtime(
        engine=runtime.engine,
        clock=clock,
        settings=runtime.settings.model_copy(update={"payment_concurrency": 3}),
        gateway=gateway,
    )
    clock.set(utc(2027, 2, 1))
    assert sorted(await renewals.renew_due(rt)) == sorted(subs)
    assert gateway.charged == 24
    assert 1 < gateway.most <= 3


async def test_the_local_gateway_keeps_a_bounded_number_of_answers() -> None:
    gateway = LocalGateway(answers_kept=50)
    assert LocalGateway()._answers.maxsize == local.ANSWERS_KEPT
    for n in range(150):
        await gateway.charge(
            PaymentRequest(
                amount=100,
                currency="usd",
                payment_method="pm_card_ok",
                customer=f"c{n}",
                description="test",
                idempotency_key=f"k{n}",
            )
        )
    assert len(gateway._answers) == 50
    # The newest answers are kept: a retry of the last charge is answered the same.
    assert "k149" in gateway._answers
    assert "k0" not in gateway._answers
