"""Declarative holders through HTTP: ``PUT /v1/subscriptions/{id}/holders`` and
``PUT /v1/orders/{id}/holders`` (``seatledger.services.holders``)."""

from __future__ import annotations

from typing import Any

from seatledger.services.runtime import Runtime
from tests.e2e.api import ONE_TIME, Api, problem, row_counts


async def _put(api: Api, path: str, body: dict[str, Any], expect: int = 200, **kw: Any) -> Any:
    return (await api.call("PUT", path, expect, json=body, **kw)).json()


async def _live(api: Api, query: str) -> dict[str, str]:
    listed = await api.get(f"/v1/seats?{query}&limit=100")
    return {seat["email"]: seat["status"] for seat in listed["data"]}


async def _types(api: Api) -> list[str]:
    events = await api.get("/v1/events?limit=100")
    return [event["type"] for event in reversed(events["data"])]


async def test_a_sync_assigns_the_missing_revokes_the_rest_and_keeps_the_others(
    api: Api, runtime: Runtime
) -> None:
    subscription_id, _ = await api.subscription(seats=3)
    pool = {"subscription_id": subscription_id}
    ann = await api.assign(pool, "ann@acme.test")
    bob = await api.assign(pool, "bob@acme.test", immediate_claim=True)
    before = await _types(api)
    path = f"/v1/subscriptions/{subscription_id}/holders"

    body = {"emails": ["BOB@acme.test", "carl@acme.test", "dana@acme.test", "bob@ACME.test"]}
    diff = await _put(api, path, body)

    assert [a["email"] for a in diff["assigned"]] == ["carl@acme.test", "dana@acme.test"]
    for assigned in diff["assigned"]:
        assert assigned["seat"]["status"] == "pending"
        assert set(assigned["seat"]["invitation"]) == {"url", "token", "expires_at"}
    assert [(s["id"], s["status"]) for s in diff["revoked"]] == [(ann["id"], "revoked")]
    assert [(s["id"], s["status"]) for s in diff["unchanged"]] == [(bob["id"], "claimed")]
    assert diff["duplicates"] == ["bob@acme.test"]
    assert diff["seats"] == {"before": 3, "after": 3}
    assert (diff["proration"], diff["proration_behavior"], diff["preview"]) == ([], None, False)
    assert (diff["subscription_id"], diff["order_id"]) == (subscription_id, None)
    assert await _live(api, f"subscription_id={subscription_id}") == {
        "bob@acme.test": "claimed",
        "carl@acme.test": "pending",
        "dana@acme.test": "pending",
    }
    # The single operations' own events, and nothing else.
    assert (await _types(api))[len(before) :] == ["seat.revoked", "seat.assigned", "seat.assigned"]
    token = diff["assigned"][0]["seat"]["invitation"]["token"]
    claimed = await api.post(f"/v1/claims/{token}", None, 200)
    assert claimed["seat"]["status"] == "claimed"

    again = await _put(api, path, {"emails": ["bob@acme.test", "carl@acme.test", "dana@acme.test"]})
    assert (again["assigned"], again["revoked"], len(again["unchanged"])) == ([], [], 3)


async def test_a_preview_answers_the_same_diff_and_writes_nothing(
    api: Api, runtime: Runtime
) -> None:
    subscription_id, _ = await api.subscription(seats=2)
    ann = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    path = f"/v1/subscriptions/{subscription_id}/holders"
    counts = await row_counts(runtime)
    body = {"emails": ["bo@acme.test", "cy@acme.test"]}
    preview = await _put(api, path + "?preview=true", body)
    assert await row_counts(runtime) == counts
    assert preview["preview"] is True
    assert preview["assigned"] == [
        {"email": "bo@acme.test", "seat": None},
        {"email": "cy@acme.test", "seat": None},
    ]
    assert [(s["id"], s["status"]) for s in preview["revoked"]] == [(ann["id"], "pending")]
    applied = await _put(api, path, body)
    assert [a["email"] for a in applied["assigned"]] == ["bo@acme.test", "cy@acme.test"]
    assert [s["id"] for s in applied["revoked"]] == [ann["id"]]
    assert applied["seats"] == preview["seats"] == {"before": 2, "after": 2}


async def test_refusals_change_nothing(api: Api, runtime: Runtime) -> None:
    subscription_id, _ = await api.subscription(seats=2)
    await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    path = f"/v1/subscriptions/{subscription_id}/holders"
    counts = await row_counts(runtime)

    body = problem(
        await api.call(
            "PUT", path, json={"emails": ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]}
        ),
        409,
        "no_seats_available",
    )
    assert "2 seats missing" in body["detail"]
    body = problem(
        await api.call("PUT", path, json={"emails": ["a@x.test", "nope", "b@x.test", "@@"]}),
        422,
        "validation_error",
    )
    assert [(e["field"], e["message"]) for e in body["errors"]] == [
        ("emails[1]", "'nope' is not an email address"),
        ("emails[3]", "'@@' is not an email address"),
    ]
    problem(
        await api.call("PUT", path, json={"emails": "a@x.test"}), 422, "validation_error", "emails"
    )
    problem(await api.call("PUT", path, json={}), 422, "validation_error", "emails")
    too_many = {"emails": [f"p{n}@x.test" for n in range(1001)]}
    problem(await api.call("PUT", path, json=too_many), 422, "validation_error", "emails")
    problem(
        await api.call("PUT", "/v1/subscriptions/sub_nope/holders", json={"emails": []}),
        404,
        "not_found",
    )
    assert await row_counts(runtime) == counts


async def test_a_members_pool_follows_its_holders_billed_as_one_change(api: Api) -> None:
    subscription_id, _ = await api.subscription(seats=1, seat_sync="members", maximum_seats=4)
    path = f"/v1/subscriptions/{subscription_id}/holders"
    assert await _live(api, f"subscription_id={subscription_id}") == {"boss@acme.test": "claimed"}

    emails = ["boss@acme.test", "a@acme.test", "b@acme.test", "c@acme.test"]
    preview = await _put(api, path + "?preview=true", {"emails": emails})
    grown = await _put(api, path, {"emails": emails})
    assert grown["seats"] == preview["seats"] == {"before": 1, "after": 4}
    assert grown["proration_behavior"] == "prorate"  # an invitation never waits on a card
    assert grown["invoice_now"] is False
    assert [line["description"] for line in grown["proration"]] == ["Seats 1 → 4, Jan 1 – Feb 1"]
    assert grown["proration"] == preview["proration"]
    assert grown["proration"][0]["amount"] == 3000
    subscription = await api.get(f"/v1/subscriptions/{subscription_id}")
    assert (subscription["seats"], subscription["assigned_seats"]) == (4, 4)

    problem(
        await api.call("PUT", path, json={"emails": [*emails, "d@acme.test"]}),
        409,
        "seat_limit_reached",
    )
    shrunk = await _put(api, path, {"emails": ["boss@acme.test"]})
    assert shrunk["seats"] == {"before": 4, "after": 1}
    assert len(shrunk["revoked"]) == 3
    assert [line["amount"] for line in shrunk["proration"]] == [-3000]
    subscription = await api.get(f"/v1/subscriptions/{subscription_id}")
    assert (subscription["seats"], subscription["assigned_seats"]) == (1, 1)


async def test_an_order_pool_syncs_within_its_seats(api: Api) -> None:
    price_id = await api.price(**ONE_TIME)
    company = await api.company()
    order_id = (await api.buy(price_id, company["id"], seats=2))["order_id"]
    path = f"/v1/orders/{order_id}/holders"
    diff = await _put(
        api, path, {"emails": ["a@acme.test", "b@acme.test"], "immediate_claim": True}
    )
    assert [a["seat"]["status"] for a in diff["assigned"]] == ["claimed", "claimed"]
    assert [a["seat"]["invitation"] for a in diff["assigned"]] == [None, None]
    assert (diff["order_id"], diff["seats"]) == (order_id, {"before": 2, "after": 2})
    problem(
        await api.call("PUT", path, json={"emails": ["a@acme.test", "b@acme.test", "c@acme.test"]}),
        409,
        "no_seats_available",
    )
    assert await _live(api, f"order_id={order_id}") == {
        "a@acme.test": "claimed",
        "b@acme.test": "claimed",
    }


async def test_a_keyed_sync_replays_without_its_invitations(api: Api) -> None:
    subscription_id, _ = await api.subscription(seats=2)
    path = f"/v1/subscriptions/{subscription_id}/holders"
    headers = {"Idempotency-Key": "sync-1"}
    first = await api.call("PUT", path, 200, json={"emails": ["a@acme.test"]}, headers=headers)
    again = await api.call("PUT", path, 200, json={"emails": ["a@acme.test"]}, headers=headers)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["idempotent-withheld"] == "invitation"
    assert first.json()["assigned"][0]["seat"]["invitation"] is not None
    replayed = again.json()
    assert replayed["assigned"][0]["seat"]["invitation"] is None
    assert replayed["assigned"][0]["seat"]["id"] == first.json()["assigned"][0]["seat"]["id"]
    problem(
        await api.call("PUT", path, json={"emails": ["b@acme.test"]}, headers=headers),
        409,
        "idempotency_conflict",
    )
    assert await _live(api, f"subscription_id={subscription_id}") == {"a@acme.test": "pending"}


async def test_only_the_billing_manager_syncs_and_only_their_own_pools(api: Api) -> None:
    subscription_id, company = await api.subscription(seats=2)
    path = f"/v1/subscriptions/{subscription_id}/holders"
    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test"})
    plain = await api.session(member["id"])
    problem(await api.call("PUT", path, json={"emails": []}, token=plain), 403, "forbidden")
    manager = await api.session(company["billing_manager_member_id"])
    diff = await _put(api, path, {"emails": ["ann@acme.test"]}, token=manager)
    assert [a["email"] for a in diff["assigned"]] == ["ann@acme.test"]

    other_company = await api.company("boss@other.test", "Other")
    other = (await api.buy(await api.price(), other_company["id"], 1))["subscription_id"]
    problem(
        await api.call(
            "PUT", f"/v1/subscriptions/{other}/holders", json={"emails": []}, token=manager
        ),
        404,
        "not_found",
    )


async def test_a_revoked_holder_loses_their_benefits_as_a_revocation_does(api: Api) -> None:
    benefit = await api.post(
        "/v1/benefits",
        {"type": "license_key", "description": "Licence", "properties": {"prefix": "TEAM"}},
    )
    price_id = (await api.product({"benefit_ids": [benefit["id"]]}))["prices"][0]["id"]
    company = await api.company()
    subscription_id = (await api.buy(price_id, company["id"], 3))["subscription_id"]
    path = f"/v1/subscriptions/{subscription_id}/holders"
    body = {"emails": ["ann@acme.test", "bob@acme.test"], "immediate_claim": True}
    claimed = await _put(api, path, body)
    members = [a["seat"]["member_id"] for a in claimed["assigned"]]
    for member_id in members:
        held = await api.get(f"/v1/members/{member_id}/entitlements")
        assert len(held["products"][0]["benefits"]) == 1
    before = await _types(api)
    emptied = await _put(api, path, {"emails": []})
    assert [s["status"] for s in emptied["revoked"]] == ["revoked", "revoked"]
    for member_id in members:
        assert (await api.get(f"/v1/members/{member_id}/entitlements"))["products"] == []
    assert (await _types(api))[len(before) :] == [
        "seat.revoked",
        "benefit_grant.revoked",
        "seat.revoked",
        "benefit_grant.revoked",
    ]
    pool = await api.get(f"/v1/seats?subscription_id={subscription_id}")
    assert (pool["total_seats"], pool["assigned_seats"]) == (3, 0)
