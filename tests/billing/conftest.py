"""``billing`` mode against the fake Stripe API, on both databases.

``billing``: the real ``StripeBilling`` adapter pointed at the fake (``tests.fakes.stripe``),
its price book in the test's database. The seatledger side runs on the test runtime (the local
gateway takes the first payment: ``billing`` mode starts Stripe's subscription once the card is
saved, which is what ``customer`` stands for here).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db.provider_billing import ProviderPriceBook
from seatledger.adapters.payments.stripe_billing import StripeBilling
from tests.fakes.stripe import SECRET_KEY, FakeStripe
from tests.stripe.conftest import fake, server, stripe_runtime, stripe_settings

__all__ = ["fake", "server", "stripe_runtime", "stripe_settings"]


@pytest.fixture
async def billing(engine: AsyncEngine, fake: FakeStripe) -> AsyncIterator[StripeBilling]:
    adapter = StripeBilling(
        secret_key=SECRET_KEY, api_base=fake.url, prices=ProviderPriceBook(engine, "stripe")
    )
    yield adapter
    await adapter.close()


@pytest.fixture
async def customer(billing: StripeBilling) -> str:
    """A Stripe Customer whose card pays (made as the dashboard would, through the SDK)."""
    created = await billing.client.v1.customers.create_async({"email": "boss@acme.test"})
    return str(created.id)
