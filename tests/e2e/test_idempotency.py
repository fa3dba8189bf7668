"""Idempotency-Key on POST (SPEC §6): replays, conflicts, scope and expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from seatledger.domain.clock import FixedClock
from seatledger.domain.payments import PaymentGateway, PaymentRequest, PaymentResult
from seatledger.services import api_keys, idempotency
from seatledger.services.runtime import Runtime
from tests.e2e.api import PRICE, Api, problem, row_counts

PRODUCT = {"name": "Team plan", "prices": [PRICE]}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_the_same_key_and_body_replays_the_first_answer(api: Api, runtime: Runtime) -> None:
    first = await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("k-1"))
    counts = await row_counts(runtime)
    # The same body in another key order and spacing is the same request.
    reordered = (
        b'{"prices": [{"tiers": [{"unit_amount": 1000, "up_to": null}], "interval": "month",'
        b' "currency": "usd"}],   "name": "Team plan"}'
    )
    again = await api.call(
        "POST",
        "/v1/products",
        201,
        content=reordered,
        headers={**keyed("k-1"), "Content-Type": "application/json"},
    )
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await row_counts(runtime) == counts  # no second product
    assert len((await api.get("/v1/products"))["data"]) == 1


async def test_another_body_under_the_same_key_is_a_conflict(api: Api, runtime: Runtime) -> None:
    await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("k-2"))
    counts = await row_counts(runtime)
    other = {**PRODUCT, "name": "Other"}
    response = await api.call("POST", "/v1/products", json=other, headers=keyed("k-2"))
    problem(response, 409, "idempotency_conflict")
    assert await row_counts(runtime) == counts


class GatedGateway:
    """The local gateway, but each charge waits until the test opens the gate."""

    def __init__(self, inner: PaymentGateway) -> None:
        self.inner = inner
        self.name = inner.name
        self.gate = asyncio.Event()
        self.waiting = 0

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.waiting += 1
        await self.gate.wait()
        return await self.inner.charge(request)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_a_key_still_running_is_a_conflict(api: Api, runtime: Runtime) -> None:
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"
    card = {"payment_method": "pm_card_ok"}
    gated = GatedGateway(runtime.gateway)
    runtime.gateway = gated
    first = asyncio.create_task(api.call("POST", path, json=card, headers=keyed("k-3")))
    await _until(lambda: gated.waiting == 1)
    problem(
        await api.call("POST", path, json=card, headers=keyed("k-3")), 409, "idempotency_conflict"
    )
    gated.gate.set()
    answer = await first
    assert answer.status_code == 200, answer.text
    again = await api.call("POST", path, 200, json=card, headers=keyed("k-3"))
    assert again.content == answer.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_declined_payment_is_replayed_as_it_was(api: Api, runtime: Runtime) -> None:
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"
    declined = {"payment_method": "pm_card_declined"}
    first = await api.call("POST", path, json=declined, headers=keyed("pay-1"))
    problem(first, 402, "payment_failed")
    counts = await row_counts(runtime)
    again = await api.call("POST", path, json=declined, headers=keyed("pay-1"))
    assert (again.status_code, again.content) == (402, first.content)
    assert again.headers["content-type"] == "application/problem+json"
    assert await row_counts(runtime) == counts  # no second attempt was made
    # Another card is another request: a new key.
    paid = await api.call(
        "POST", path, 200, json={"payment_method": "pm_card_ok"}, headers=keyed("pay-2")
    )
    assert paid.json()["status"] == "completed"


async def test_keys_are_scoped_to_the_credential_and_the_path(api: Api, runtime: Runtime) -> None:
    _, other_key = await api_keys.create_api_key(runtime, name="other backend")
    await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("shared"))
    await api.call(
        "POST", "/v1/products", 201, json=PRODUCT, headers=keyed("shared"), token=other_key
    )
    company = {"name": "Acme", "billing_manager": {"email": "boss@acme.test"}}
    await api.call("POST", "/v1/companies", 201, json=company, headers=keyed("shared"))
    assert len((await api.get("/v1/products"))["data"]) == 2


async def test_keys_are_kept_a_day_then_forgotten(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("daily"))
    clock.advance(timedelta(hours=23))
    replay = await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("daily"))
    assert replay.headers["idempotent-replayed"] == "true"
    clock.advance(timedelta(hours=1, seconds=1))
    fresh = await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("daily"))
    assert "idempotent-replayed" not in fresh.headers
    assert len((await api.get("/v1/products"))["data"]) == 2
    clock.advance(timedelta(hours=25))
    assert await idempotency.prune(runtime) == 1


async def test_public_claims_take_keys_too(api: Api) -> None:
    subscription_id, _ = await api.subscription()
    seat = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    path = f"/v1/claims/{seat['invitation']['token']}"
    first = await api.client.post(path, headers=keyed("claim-1"))
    assert first.status_code == 200, first.text
    again = await api.client.post(path, headers=keyed("claim-1"))
    assert (again.status_code, again.content) == (200, first.content)  # not invalid_token
    problem(await api.client.post(path), 400, "invalid_token")


async def test_a_malformed_key_is_refused(api: Api, runtime: Runtime) -> None:
    counts = await row_counts(runtime)
    for bad in (b"x" * 256, b"with space", "é".encode()):
        response = await api.call(
            "POST",
            "/v1/products",
            json=PRODUCT,
            headers={"Idempotency-Key": bad},
        )
        problem(response, 422, "validation_error", "Idempotency-Key")
    assert await row_counts(runtime) == counts


async def test_without_a_credential_the_key_is_ignored_and_the_answer_is_401(api: Api) -> None:
    response = await api.client.post("/v1/products", json=PRODUCT, headers=keyed("anon"))
    problem(response, 401, "unauthenticated")
