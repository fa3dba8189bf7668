"""Seat transfer through HTTP: ``POST /v1/seats/{id}/transfer``
(``seatledger.services.transfers``)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, text

from seatledger.adapters.db import tables as t
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts


async def _pool_with_benefit(api: Api, seats: int, **price: Any) -> tuple[str, dict[str, Any]]:
    benefit = await api.post(
        "/v1/benefits",
        {"type": "license_key", "description": "Licence", "properties": {"prefix": "TEAM"}},
    )
    price_id = (await api.product({"benefit_ids": [benefit["id"]]}, **price))["prices"][0]["id"]
    company = await api.company()
    done = await api.buy(price_id, company["id"], seats)
    return str(done["subscription_id"]), company


async def _counts(api: Api, subscription_id: str) -> tuple[int, int]:
    pool = await api.get(f"/v1/seats?subscription_id={subscription_id}")
    return pool["total_seats"], pool["assigned_seats"]


async def _grants(api: Api, member_id: str) -> int:
    held = await api.get(f"/v1/members/{member_id}/entitlements")
    return sum(len(product["benefits"]) for product in held["products"])


async def test_a_claimed_seat_passes_to_another_person(api: Api) -> None:
    subscription_id, _ = await _pool_with_benefit(api, seats=2)
    pool = {"subscription_id": subscription_id}
    ann = await api.assign(pool, "ann@acme.test", immediate_claim=True, metadata={"team": "core"})
    assert await _grants(api, ann["member_id"]) == 1
    before = len((await api.get("/v1/events?limit=100"))["data"])

    moved = await api.post(f"/v1/seats/{ann['id']}/transfer", {"email": "Bob@Acme.test"}, 200)

    assert (moved["revoked"]["id"], moved["revoked"]["status"]) == (ann["id"], "revoked")
    seat = moved["seat"]
    assert (seat["email"], seat["status"], seat["metadata"]) == (
        "bob@acme.test",
        "pending",
        {"team": "core"},
    )
    assert seat["id"] != ann["id"]
    assert set(seat["invitation"]) == {"url", "token", "expires_at"}
    assert await _grants(api, ann["member_id"]) == 0
    assert await _counts(api, subscription_id) == (2, 1)
    events = (await api.get("/v1/events?limit=100"))["data"]
    assert [e["type"] for e in reversed(events[: len(events) - before])] == [
        "seat.revoked",
        "benefit_grant.revoked",
        "seat.assigned",
    ]
    claimed = await api.post(f"/v1/claims/{seat['invitation']['token']}", None, 200)
    assert claimed["seat"]["id"] == seat["id"]
    assert await _grants(api, claimed["seat"]["member_id"]) == 1


async def test_a_pending_seat_passes_to_a_member_claimed_at_once(api: Api) -> None:
    subscription_id, company = await _pool_with_benefit(api, seats=1)
    ann = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    bob = await api.post(f"/v1/companies/{company['id']}/members", {"email": "bob@acme.test"})
    moved = await api.post(
        f"/v1/seats/{ann['id']}/transfer", {"member_id": bob["id"], "immediate_claim": True}, 200
    )
    assert (moved["seat"]["member_id"], moved["seat"]["status"]) == (bob["id"], "claimed")
    assert moved["seat"]["invitation"] is None
    assert await _grants(api, bob["id"]) == 1
    problem(
        await api.call("POST", f"/v1/claims/{ann['invitation']['token']}"), 400, "invalid_token"
    )
    assert await _counts(api, subscription_id) == (1, 1)


async def test_refusals_change_nothing(api: Api, runtime: Runtime) -> None:
    subscription_id, company = await _pool_with_benefit(api, seats=3)
    pool = {"subscription_id": subscription_id}
    ann = await api.assign(pool, "ann@acme.test", immediate_claim=True)
    await api.assign(pool, "bob@acme.test")
    gone = await api.assign(pool, "cy@acme.test")
    await api.call("DELETE", f"/v1/seats/{gone['id']}", 200)
    stranger = await api.company("boss@other.test", "Other")
    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "eve@acme.test"})
    plain = await api.session(member["id"])
    counts = await row_counts(runtime)
    path = f"/v1/seats/{ann['id']}/transfer"
    for body, status, code, field in [
        ({"email": "BOB@acme.test"}, 409, "already_assigned", None),
        ({"email": "ANN@acme.test"}, 422, "validation_error", "email"),
        ({"member_id": ann["member_id"]}, 422, "validation_error", "member_id"),
        ({"email": "not an address"}, 422, "validation_error", "email"),
        ({}, 422, "validation_error", "email"),
        ({"email": "x@acme.test", "member_id": ann["member_id"]}, 422, "validation_error", "email"),
        ({"member_id": stranger["billing_manager_member_id"]}, 404, "not_found", "member_id"),
    ]:
        problem(await api.call("POST", path, json=body), status, code, field)
    problem(
        await api.call("POST", f"/v1/seats/{gone['id']}/transfer", json={"email": "d@acme.test"}),
        409,
        "seat_not_pending",
    )
    problem(
        await api.call("POST", "/v1/seats/seat_nope/transfer", json={"email": "d@acme.test"}),
        404,
        "not_found",
    )
    problem(
        await api.call("POST", path, json={"email": "d@acme.test"}, token=plain), 403, "forbidden"
    )
    assert await row_counts(runtime) == counts


async def test_a_members_pool_neither_grows_nor_shrinks(api: Api) -> None:
    subscription_id, _ = await _pool_with_benefit(api, seats=1, seat_sync="members")
    ann = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    assert await _counts(api, subscription_id) == (2, 2)
    await api.post(f"/v1/seats/{ann['id']}/transfer", {"email": "bob@acme.test"}, 200)
    assert await _counts(api, subscription_id) == (2, 2)
    invoices = await api.get(f"/v1/invoices?subscription_id={subscription_id}")
    assert len(invoices["data"]) == 1  # the purchase's: a transfer bills nothing


async def test_a_keyed_transfer_replays_without_the_invitation(api: Api) -> None:
    subscription_id, _ = await _pool_with_benefit(api, seats=1)
    ann = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    path, headers = f"/v1/seats/{ann['id']}/transfer", {"Idempotency-Key": "move-1"}
    first = await api.call("POST", path, 200, json={"email": "bob@acme.test"}, headers=headers)
    again = await api.call("POST", path, 200, json={"email": "bob@acme.test"}, headers=headers)
    assert again.headers["idempotent-withheld"] == "invitation"
    assert again.json()["seat"]["id"] == first.json()["seat"]["id"]
    assert again.json()["seat"]["invitation"] is None


async def test_assignments_racing_a_transfer_never_find_a_free_seat(
    api: Api, runtime: Runtime
) -> None:
    """Rounds of a transfer and four assignments sent at once to a full pool: every assignment
    is refused, the transfer succeeds, and the pool ends as full as it began."""
    subscription_id, _ = await _pool_with_benefit(api, seats=2)
    pool = {"subscription_id": subscription_id}
    holder = (await api.assign(pool, "h0@acme.test", immediate_claim=True))["id"]
    await api.assign(pool, "keep@acme.test")
    for round_ in range(1, 6):
        transfer = api.call(
            "POST", f"/v1/seats/{holder}/transfer", json={"email": f"h{round_}@acme.test"}
        )
        assigns = [
            api.call("POST", "/v1/seats", json={**pool, "email": f"r{round_}-{n}@acme.test"})
            for n in range(4)
        ]
        moved, *refused = await asyncio.gather(transfer, *assigns)
        assert moved.status_code == 200, moved.text
        for response in refused:
            problem(response, 409, "no_seats_available")
        holder = moved.json()["seat"]["id"]
        assert await _counts(api, subscription_id) == (2, 2)


async def test_the_pool_stays_full_while_a_transfer_is_held_up(api: Api, runtime: Runtime) -> None:
    """PostgreSQL, step by step: the seat's row held by another transaction stalls the transfer
    after it locked the pool; an assignment sent then waits for the pool and, once the transfer
    commits, finds no free seat. The counter, read meanwhile, never dropped. (SQLite serialises
    writers: the race above is its case.)"""
    if runtime.engine.dialect.name != "postgresql":
        return
    subscription_id, _ = await _pool_with_benefit(api, seats=1)
    pool = {"subscription_id": subscription_id}
    ann = await api.assign(pool, "ann@acme.test", immediate_claim=True)
    async with runtime.engine.connect() as blocker:
        await blocker.execute(
            select(t.seats.c.id).where(t.seats.c.id == ann["id"]).with_for_update()
        )
        transfer = asyncio.ensure_future(
            api.call("POST", f"/v1/seats/{ann['id']}/transfer", json={"email": "bob@acme.test"})
        )
        await _until_waiting(runtime, 1)
        assign = asyncio.ensure_future(
            api.call("POST", "/v1/seats", json={**pool, "email": "eve@acme.test"})
        )
        # A full pool may refuse at once (its row is not locked to say no) or wait for the
        # pool's lock; either way it must not find a free seat.
        await _until_waiting(runtime, 2, unless_done=assign)
        async with runtime.engine.connect() as reader:
            counter = await reader.execute(
                select(t.seat_pools.c.assigned_seats).where(t.seat_pools.c.id == subscription_id)
            )
            assert counter.scalar_one() == 1
        await blocker.rollback()
    moved, refused = await asyncio.gather(transfer, assign)
    assert moved.status_code == 200, moved.text
    problem(refused, 409, "no_seats_available")
    assert await _counts(api, subscription_id) == (1, 1)


async def _until_waiting(
    runtime: Runtime, backends: int, unless_done: asyncio.Future[Any] | None = None
) -> None:
    """Until this many of the database's sessions wait for a lock, or ``unless_done`` has
    finished (a condition, not a time)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while unless_done is None or not unless_done.done():
        async with runtime.engine.connect() as probe:
            if (await probe.execute(query)).scalar_one() >= backends:
                return
        await asyncio.sleep(0.01)
