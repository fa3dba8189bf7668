"""``seatledger stripe reconcile`` as a real process against the fake Stripe: a line per
repaired subscription, a summary, exit 0; a clean one-line error outside billing mode and when
Stripe refuses the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.services import provider_subscriptions, purchases, seats
from seatledger.services.runtime import Runtime
from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.integration import shop
from tests.integration.processes import assert_fails_in_one_line, clean_environment, run

pytestmark = pytest.mark.db


def _env(database_url: str, fake: FakeStripe, **more: str) -> dict[str, str]:
    settings = {
        "DATABASE_URL": database_url,
        "SANDBOX": "1",
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_MODE": "billing",
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url,
    }
    return clean_environment(**{**settings, **more})


async def test_reconcile_prints_each_repair_and_a_summary(
    runtime: Runtime,
    billing: StripeBilling,
    customer: str,
    fake: FakeStripe,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (price_id,) = await shop.product(runtime, shop.per_seat(1000))
    sub_id = await shop.subscribe(runtime, price_id, await shop.company(runtime), 4)
    for n in range(3):
        await seats.assign_seat(runtime, subscription_id=sub_id, email=f"p{n}@acme.test")
    remote = await provider_subscriptions.start_billing(runtime, billing, sub_id, customer=customer)
    item = remote.items[0]
    await billing.client.v1.subscriptions.update_async(
        remote.id, {"items": [{"id": item.id, "quantity": 1}], "proration_behavior": "none"}
    )

    done = run(_env(database_url, fake, STRIPE_PUSH_BACK="1"), "stripe", "reconcile")

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{sub_id} ({remote.id}): clamped 4 → 3 seats (Stripe 1, holders 3), pushed back to Stripe",
        "1 subscriptions checked, 1 repaired, 0 flagged",
    ]
    assert (await purchases.get_subscription(runtime, sub_id)).seats == 3
    assert (await billing.subscription(remote.id)).items[0].quantity == 3
    again = run(_env(database_url, fake), "stripe", "reconcile")
    assert again.stdout.splitlines() == ["1 subscriptions checked, 0 repaired, 0 flagged"]


async def test_reconcile_outside_billing_mode_or_with_a_bad_key_is_one_line(
    fake: FakeStripe, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = _env(database_url, fake, STRIPE_MODE="payments")
    assert_fails_in_one_line(run(env, "stripe", "reconcile"), "SEATLEDGER_STRIPE_MODE=billing")
    env = _env(database_url, fake, STRIPE_SECRET_KEY="pk_test_x")
    assert_fails_in_one_line(
        run(env, "stripe", "reconcile"), "SEATLEDGER_STRIPE_SECRET_KEY", "secret key"
    )
