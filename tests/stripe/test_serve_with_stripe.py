"""``seatledger serve`` with ``SEATLEDGER_PAYMENT_PROVIDER=stripe`` as a real process, outside
the sandbox, against the fake Stripe: the hosted checkout is paid on Stripe's page, Stripe's
webhook reaches the server, and the server's own delivery loop completes the checkout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.e2e.api import PRICE
from tests.fakes.stripe import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.integration.processes import clean_environment, migrate, run, serving


async def test_a_server_takes_a_hosted_checkout_through_stripe(
    fake: FakeStripe, tmp_path: Path
) -> None:
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'stripe.sqlite3'}",
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=fake.url,
    )
    migrate(env)
    key = run(env, "keys", "create", "--name", "stripe test").stdout.strip().splitlines()[-1]
    with serving(env, tmp_path) as server:
        fake.store.webhook_url = f"{server.base}/v1/stripe/webhooks"
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=30) as api:
            product = await api.post("/v1/products", json={"name": "Team", "prices": [PRICE]})
            company = await api.post(
                "/v1/companies", json={"name": "Acme", "billing_manager": {"email": "d@acme.test"}}
            )
            checkout = (
                await api.post(
                    "/v1/checkouts",
                    json={
                        "price_id": product.json()["prices"][0]["id"],
                        "seats": 2,
                        "company_id": company.json()["id"],
                    },
                )
            ).json()
            to_stripe = await api.post(f"/checkout/{checkout['id']}/stripe")
            assert to_stripe.status_code == 303, server.output()
            (session,) = fake.objects("checkout.session")
            assert to_stripe.headers["location"] == session["url"]
            assert (await fake.complete_session(session["id"])).status_code == 200
            for _ in range(200):  # the server's delivery loop runs a round every second
                done = (await api.get(f"/v1/checkouts/{checkout['id']}")).json()
                if done["status"] == "completed":
                    break
                await asyncio.sleep(0.1)
            assert done["status"] == "completed", server.output()
            invoices = (
                await api.get(f"/v1/invoices?subscription_id={done['subscription_id']}")
            ).json()
            assert [(i["status"], i["total"]) for i in invoices["data"]] == [("paid", 2000)]
    assert all(status == 200 for _, status in fake.store.deliveries)
    assert len(fake.objects("payment_intent")) == 1
