"""The hot paths' round trips to PostgreSQL (SPEC §9: one or two per request, measured), with a
known API key: the counts are pinned, so that none of them grows unnoticed."""

from __future__ import annotations

import httpx
import pytest

from seatledger.services.runtime import Runtime
from tests.e2e.api import Api
from tests.e2e.round_trips import RoundTrips, counting

pytestmark = pytest.mark.postgresql_only  # round trips are counted as psycopg makes them

# Round trips per request, BEGIN and COMMIT included. Reads run outside a transaction (no
# BEGIN, no ROLLBACK): their statements alone.
EXPECTED = {
    "assign": 1,  # one statement, which commits itself: take the seat, insert it and its events
    # Claim: what it needs read (the seat behind the token, its member, its benefits), then one
    # statement that checks the token again and writes the claim, its grants, its session and
    # its events; it was 8 (BEGIN, token, member, seat, benefits, session, outbox, COMMIT).
    "claim": 2,
    # Revoke: the seat and its grants read, then one statement that locks the pool's row first
    # (the one lock order: pool, subscription, seats), revokes the seat and its grants, frees the
    # pool's seat and writes the events; it was 6 (BEGIN, pool lock, seat, grants, outbox, COMMIT).
    "revoke": 2,
    "entitlements": 1,  # the company with its live pools, one statement
    "seat list": 1,  # the pool's counts joined with its page of seats
}


async def _count(runtime: Runtime, request: object) -> tuple[RoundTrips, httpx.Response]:
    with counting(runtime.engine) as trips:
        response = await request  # type: ignore[misc]
    assert response.status_code < 300, response.text
    return trips, response


async def test_the_hot_paths_round_trips(api: Api, runtime: Runtime) -> None:
    subscription_id, company = await api.subscription(seats=5)
    await api.get("/v1/products")  # the API key is known from now on
    counted: dict[str, RoundTrips] = {}

    trips, response = await _count(
        runtime,
        api.call(
            "POST", "/v1/seats", json={"subscription_id": subscription_id, "email": "a@x.test"}
        ),
    )
    counted["assign"] = trips
    token = response.json()["invitation"]["token"]
    trips, response = await _count(runtime, api.client.post(f"/v1/claims/{token}"))
    counted["claim"] = trips
    seat_id = response.json()["seat"]["id"]
    trips, _ = await _count(runtime, api.call("DELETE", f"/v1/seats/{seat_id}"))
    counted["revoke"] = trips
    trips, _ = await _count(runtime, api.call("GET", f"/v1/companies/{company['id']}/entitlements"))
    counted["entitlements"] = trips
    trips, _ = await _count(
        runtime, api.call("GET", f"/v1/seats?subscription_id={subscription_id}")
    )
    counted["seat list"] = trips
    for name, trips in counted.items():
        print(f"{name}: {trips.count} round trips: {' | '.join(trips.statements)}")
    assert {name: trips.count for name, trips in counted.items()} == EXPECTED
