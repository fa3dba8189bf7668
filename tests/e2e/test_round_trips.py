"""What an Idempotency-Key costs on PostgreSQL: its record adds at most two round trips to the
request (the look-up before the work, the row written in the work's own transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from seatledger.services.runtime import Runtime
from tests.e2e.api import PRICE, Api
from tests.e2e.round_trips import counting

pytestmark = pytest.mark.postgresql_only  # round trips are counted as psycopg makes them

Call = Callable[[dict[str, str]], Awaitable[httpx.Response]]


async def _trips(runtime: Runtime, call: Call, headers: dict[str, str]) -> int:
    with counting(runtime.engine) as trips:
        response = await call(headers)
    assert response.status_code < 300, response.text
    return trips.count


async def _compare(api: Api, name: str, plain: Call, keyed: Call, *, budget: int = 2) -> None:
    """``budget``: the round trips the key may add (more than its two where the unkeyed form
    needs no transaction at all, or takes a lease the keyed form must record)."""
    runtime = api.runtime
    await api.get("/v1/products")  # the API key is known from now on (its look-up is cached)
    without = await _trips(runtime, plain, {})
    with_key = await _trips(runtime, keyed, {"Idempotency-Key": name.replace(" ", "-")})
    print(f"{name}: {without} round trips without a key, {with_key} with one")
    assert with_key - without <= budget


async def test_a_key_adds_two_round_trips_to_a_create(api: Api, runtime: Runtime) -> None:
    product = {"name": "Team plan", "prices": [PRICE]}

    async def create(headers: dict[str, str]) -> httpx.Response:
        return await api.call("POST", "/v1/products", json=product, headers=headers)

    await _compare(api, "create product", create, create)


async def test_a_key_adds_two_round_trips_to_an_assignment_in_a_transaction(
    api: Api, runtime: Runtime
) -> None:
    subscription_id, _ = await api.subscription(seats=5)
    emails = iter(["a@acme.test", "b@acme.test"])

    async def assign(headers: dict[str, str]) -> httpx.Response:
        body = {"subscription_id": subscription_id, "email": next(emails)}
        return await api.call("POST", "/v1/seats", json=body, headers=headers)

    # Without a key, one statement that commits itself; with one, it shares a transaction with
    # the key's record: BEGIN and COMMIT come back on top of the key's own two.
    await _compare(api, "assign seat", assign, assign, budget=4)


async def test_a_key_adds_two_round_trips_to_a_confirm(api: Api, runtime: Runtime) -> None:
    price_id = await api.price()
    company = await api.company()
    checkouts = iter([await api.checkout(price_id, 2, company_id=company["id"]) for _ in "ab"])

    async def confirm(headers: dict[str, str]) -> httpx.Response:
        path = f"/v1/checkouts/{next(checkouts)['id']}/confirm"
        return await api.call("POST", path, json={"payment_method": "pm_card_ok"}, headers=headers)

    # One more: the checkout's charge lease is held with the key's record until the checkpoint
    # before the charge, which then writes the recovery point and commits in two trips.
    await _compare(api, "confirm checkout", confirm, confirm, budget=3)
