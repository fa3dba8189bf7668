"""Seats and claims through HTTP (SPEC §5, §6)."""

from __future__ import annotations

from datetime import timedelta

from seatledger.domain.clock import FixedClock
from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts

SEAT_FIELDS = {
    "id",
    "status",
    "subscription_id",
    "order_id",
    "member_id",
    "email",
    "claimed_at",
    "revoked_at",
    "metadata",
}


async def test_assigning_answers_the_invitation_once(api: Api, runtime: Runtime) -> None:
    subscription_id, company = await api.subscription(seats=3)
    pool = {"subscription_id": subscription_id}
    seat = await api.assign(pool, "Ann@Acme.Test", metadata={"team": "core", "level": 2})
    assert set(seat) == SEAT_FIELDS | {"invitation"}
    assert set(seat["invitation"]) == {"url", "token", "expires_at"}
    assert seat["invitation"]["url"].endswith(seat["invitation"]["token"])
    assert seat["invitation"]["expires_at"] == "2027-01-08T00:00:00Z"
    assert (seat["status"], seat["metadata"], seat["order_id"]) == (
        "pending",
        {"team": "core", "level": 2},
        None,
    )
    listed = await api.get(f"/v1/seats?subscription_id={subscription_id}")
    assert [set(s) for s in listed["data"]] == [SEAT_FIELDS]  # never the invitation again
    assert (listed["total_seats"], listed["assigned_seats"], listed["available_seats"]) == (3, 1, 2)
    assert set(listed) == {
        "data",
        "has_more",
        "next_cursor",
        "total_seats",
        "assigned_seats",
        "available_seats",
    }

    manager = company["billing_manager_member_id"]
    by_member = await api.post("/v1/seats", {**pool, "member_id": manager, "send_email": False})
    assert (by_member["member_id"], by_member["email"]) == (manager, "boss@acme.test")
    quick = await api.assign(pool, "bob@acme.test", immediate_claim=True)
    assert (quick["status"], quick["invitation"]) == ("claimed", None)
    assert quick["claimed_at"] == "2027-01-01T00:00:00Z"

    counts = await row_counts(runtime)
    problem(
        await api.call("POST", "/v1/seats", json={**pool, "email": "carl@acme.test"}),
        409,
        "no_seats_available",
    )
    await api.call("DELETE", f"/v1/seats/{quick['id']}", 200)
    problem(
        await api.call("POST", "/v1/seats", json={**pool, "email": "ANN@acme.test"}),
        409,
        "already_assigned",
    )
    assert (await row_counts(runtime))["seats"] == counts["seats"]
    for body, status, code, field in [
        ({**pool}, 422, "validation_error", "email"),
        ({"email": "x@acme.test"}, 422, "validation_error", "subscription_id"),
        (
            {**pool, "order_id": new_id("ord"), "email": "x@acme.test"},
            422,
            "validation_error",
            "subscription_id",
        ),
        (
            {"subscription_id": new_id("sub"), "email": "x@acme.test"},
            404,
            "not_found",
            "subscription_id",
        ),
        ({"order_id": "nope", "email": "x@acme.test"}, 404, "not_found", "order_id"),
        ({**pool, "member_id": new_id("mem")}, 404, "not_found", "member_id"),
        (
            {**pool, "email": "x@acme.test", "metadata": {"n": 1.5}},
            422,
            "validation_error",
            "metadata.n",
        ),
        ({**pool, "email": "x@acme.test", "metadata": ["a"]}, 422, "validation_error", "metadata"),
        (
            {**pool, "email": "x@acme.test", "immediate_claim": "yes"},
            422,
            "validation_error",
            "immediate_claim",
        ),
    ]:
        problem(await api.call("POST", "/v1/seats", json=body), status, code, field)


async def test_seat_lists_page_and_show_revoked_on_request(api: Api) -> None:
    subscription_id, _ = await api.subscription(seats=5)
    pool = {"subscription_id": subscription_id}
    seats = [await api.assign(pool, f"p{i}@acme.test") for i in range(3)]
    await api.call("DELETE", f"/v1/seats/{seats[0]['id']}", 200)
    page = await api.get(f"/v1/seats?subscription_id={subscription_id}&limit=1")
    assert ([s["id"] for s in page["data"]], page["has_more"]) == ([seats[1]["id"]], True)
    rest = await api.get(
        f"/v1/seats?subscription_id={subscription_id}&cursor={page['next_cursor']}"
    )
    assert [s["id"] for s in rest["data"]] == [seats[2]["id"]]
    everything = await api.get(f"/v1/seats?subscription_id={subscription_id}&include_revoked=true")
    assert [s["status"] for s in everything["data"]] == ["revoked", "pending", "pending"]
    problem(await api.call("GET", "/v1/seats"), 422, "validation_error", "subscription_id")
    problem(
        await api.call("GET", f"/v1/seats?order_id={new_id('ord')}"), 404, "not_found", "order_id"
    )


async def test_claim_look_up_resend_and_revoke(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    subscription_id, _ = await api.subscription(seats=2)
    seat = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    old = seat["invitation"]["token"]
    resent = await api.post(f"/v1/seats/{seat['id']}/resend", {"send_email": False}, 200)
    new = resent["invitation"]["token"]
    assert new != old
    problem(await api.client.get(f"/v1/claims/{old}"), 400, "invalid_token")
    counts = await row_counts(runtime)
    for _ in range(2):  # looking up is read-only
        assert (await api.client.get(f"/v1/claims/{new}")).status_code == 200
    assert await row_counts(runtime) == counts
    problem(await api.client.post(f"/v1/claims/{old}"), 400, "invalid_token")
    problem(await api.client.post("/v1/claims/unknown-token"), 400, "invalid_token")
    assert await row_counts(runtime) == counts

    claimed = await api.client.post(f"/v1/claims/{new}")
    assert claimed.status_code == 200, claimed.text
    body = claimed.json()
    assert set(body) == {"seat", "grants", "session_token"}
    assert body["session_token"].startswith("cs_")
    assert len(body["grants"]) == 0
    problem(await api.client.post(f"/v1/claims/{new}"), 400, "invalid_token")
    problem(await api.call("POST", f"/v1/seats/{seat['id']}/resend"), 409, "seat_not_pending")

    first = (await api.call("DELETE", f"/v1/seats/{seat['id']}", 200)).json()
    clock.advance(timedelta(hours=1))
    second = (await api.call("DELETE", f"/v1/seats/{seat['id']}", 200)).json()
    assert first == second  # revoking again answers the first revoked_at
    problem(await api.call("DELETE", f"/v1/seats/{new_id('seat')}"), 404, "not_found")
    problem(await api.call("POST", f"/v1/seats/{new_id('seat')}/resend"), 404, "not_found")
    problem(await api.call("DELETE", "/v1/seats/x"), 404, "not_found")

    expiring = await api.assign({"subscription_id": subscription_id}, "bob@acme.test")
    clock.advance(timedelta(days=7, seconds=1))
    problem(
        await api.client.get(f"/v1/claims/{expiring['invitation']['token']}"), 400, "invalid_token"
    )


async def test_a_members_pool_grows_to_its_maximum(api: Api) -> None:
    price_id = await api.price(seat_sync="members", maximum_seats=2)
    company = await api.company()
    done = await api.buy(price_id, company["id"], 1)
    pool = {"subscription_id": done["subscription_id"]}
    await api.assign(pool, "ann@acme.test")
    subscription = await api.get(f"/v1/subscriptions/{done['subscription_id']}")
    assert (subscription["seats"], subscription["assigned_seats"]) == (2, 2)
    problem(
        await api.call("POST", "/v1/seats", json={**pool, "email": "bob@acme.test"}),
        409,
        "seat_limit_reached",
    )


async def test_a_plain_member_sees_their_own_seats_only_in_an_order(api: Api) -> None:
    price_id = await api.price(interval=None)
    company = await api.company()
    done = await api.buy(price_id, company["id"], 3)
    pool = {"order_id": done["order_id"]}
    ann = await api.assign(pool, "ann@acme.test", immediate_claim=True)
    await api.assign(pool, "bob@acme.test")
    token = await api.session(ann["member_id"])
    mine = await api.get(f"/v1/seats?order_id={done['order_id']}", token=token)
    assert [s["id"] for s in mine["data"]] == [ann["id"]]
    assert (mine["total_seats"], mine["assigned_seats"], mine["available_seats"]) == (3, 2, 1)
    order = await api.get(f"/v1/orders/{done['order_id']}")
    assert (order["assigned_seats"], order["available_seats"]) == (2, 1)


async def test_get_a_seat_and_a_checkout(api: Api) -> None:
    price_id = await api.price(interval=None)
    company = await api.company()
    done = await api.buy(price_id, company["id"], 3)
    pool = {"order_id": done["order_id"]}
    ann = await api.assign(pool, "ann@acme.test", immediate_claim=True)
    bob = await api.assign(pool, "bob@acme.test")
    seat = await api.get(f"/v1/seats/{bob['id']}")
    assert set(seat) == SEAT_FIELDS
    assert (seat["status"], seat["email"]) == ("pending", "bob@acme.test")
    token = await api.session(ann["member_id"])
    assert (await api.get(f"/v1/seats/{ann['id']}", token=token))["status"] == "claimed"
    await api.get(f"/v1/seats/{bob['id']}", token=token, expect=403)
    await api.get(f"/v1/seats/{new_id('seat')}", expect=404)
    checkout = await api.get(f"/v1/checkouts/{done['id']}")
    assert (checkout["status"], checkout["order_id"]) == ("completed", done["order_id"])
    await api.get(f"/v1/checkouts/{done['id']}", token=token, expect=403)
    await api.get("/v1/checkouts/chk_nope", expect=404)
