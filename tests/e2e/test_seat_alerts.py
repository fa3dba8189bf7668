"""Seat alerts through the API: `PUT`/`GET /v1/companies/{id}/seat-alerts`, the
`seat.usage_threshold_reached` event (once per crossing, again after usage fell below) and the
billing manager's email, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from seatledger.api.event_catalogue import event_model
from seatledger.domain.events import EventType
from seatledger.domain.seat_pool import PoolRef
from tests.e2e.api import Api, problem
from tests.e2e.round_trips import counting
from tests.integration.outbox_drain import fan_out_undelivered

pytestmark = pytest.mark.db

REACHED = EventType.SEAT_USAGE_THRESHOLD_REACHED.value


async def _pool(api: Api, seats: int = 5) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Acme (billing manager boss@acme.test) with a subscription of ``seats`` seats of Team
    plan: (company, product, subscription id)."""
    product = await api.product()
    company = await api.company()
    done = await api.buy(product["prices"][0]["id"], company["id"], seats=seats)
    return company, product, done["subscription_id"]


async def _set(api: Api, company_id: str, body: dict[str, Any], expect: int = 200) -> Any:
    path = f"/v1/companies/{company_id}/seat-alerts"
    return (await api.call("PUT", path, expect, json=body)).json()


async def _reached(api: Api) -> list[dict[str, Any]]:
    """The crossings told so far, oldest first."""
    page = await api.get(f"/v1/events?type={REACHED}&limit=100")
    return list(reversed(page["data"]))


async def test_each_crossing_is_told_once_and_again_after_usage_fell_below(api: Api) -> None:
    company, product, sub_id = await _pool(api)
    alerts = {"product_id": product["id"], "thresholds": [100, 80]}
    assert await _set(api, company["id"], alerts) == {
        "data": [{"product_id": product["id"], "thresholds": [80, 100]}]
    }
    pool = {"subscription_id": sub_id}
    seats = [await api.assign(pool, f"p{i}@acme.test") for i in range(3)]
    assert await _reached(api) == []  # 3 of 5: 60%
    seats.append(await api.assign(pool, "p3@acme.test"))  # 4 of 5: 80%
    assert [e["data"]["threshold"] for e in await _reached(api)] == [80]
    seats.append(await api.assign(pool, "p4@acme.test"))  # 5 of 5: 100%, 80% still reached
    told = await _reached(api)
    assert [e["data"] for e in told] == [
        {
            "company_id": company["id"],
            "product_id": product["id"],
            "threshold": 80,
            "used": 4,
            "limit": 5,
        },
        {
            "company_id": company["id"],
            "product_id": product["id"],
            "threshold": 100,
            "used": 5,
            "limit": 5,
        },
    ]
    for seat in seats[:2]:  # 3 of 5: both re-armed, silently
        await api.call("DELETE", f"/v1/seats/{seat['id']}", 200)
    assert len(await _reached(api)) == 2
    await api.assign(pool, "p5@acme.test")  # 4 of 5: 80% again
    again = await _reached(api)
    assert [(e["data"]["threshold"], e["data"]["used"]) for e in again] == [
        (80, 4),
        (100, 5),
        (80, 4),
    ]
    # The event as `GET /v1/events/{id}` answers it is the webhook's body, as documented.
    document = await api.get(f"/v1/events/{again[-1]['id']}")
    assert document == again[-1]
    event_model(EventType.SEAT_USAGE_THRESHOLD_REACHED).model_validate(document)


async def test_a_seat_count_change_is_a_change_of_the_limit(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=5)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [50]})
    for i in range(2):
        await api.assign({"subscription_id": sub_id}, f"p{i}@acme.test")
    assert await _reached(api) == []  # 2 of 5
    await api.call("PATCH", f"/v1/subscriptions/{sub_id}", 200, json={"seats": 4})
    [told] = await _reached(api)
    assert (told["data"]["used"], told["data"]["limit"]) == (2, 4)


async def test_purchases_and_cancellations_change_the_limit(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=2)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [75]})
    for i in range(2):
        await api.assign({"subscription_id": sub_id}, f"p{i}@acme.test")
    assert len(await _reached(api)) == 1  # 2 of 2
    more = await api.buy(product["prices"][0]["id"], company["id"], seats=4)
    assert len(await _reached(api)) == 1  # 2 of 6: re-armed, silently
    await api.post(
        f"/v1/subscriptions/{more['subscription_id']}/cancel", {"at_period_end": False}, 200
    )
    [_, told] = await _reached(api)  # 2 of 2 again
    assert (told["data"]["used"], told["data"]["limit"]) == (2, 2)


async def test_an_immediate_claim_is_told_and_a_full_pool_still_refuses(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=1)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [100]})
    pool = {"subscription_id": sub_id}
    seat = await api.assign(pool, "ann@acme.test", immediate_claim=True)
    assert seat["status"] == "claimed"
    [told] = await _reached(api)
    assert (told["data"]["used"], told["data"]["limit"]) == (1, 1)
    full = await api.call("POST", "/v1/seats", json={**pool, "email": "bob@acme.test"})
    problem(full, 409, "no_seats_available")
    assert len(await _reached(api)) == 1


async def test_thresholds_already_reached_when_set_are_armed_silently(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=2)
    await api.assign({"subscription_id": sub_id}, "ann@acme.test")  # 1 of 2
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [50, 100]})
    assert await _reached(api) == []
    await api.assign({"subscription_id": sub_id}, "bob@acme.test")  # 2 of 2
    assert [e["data"]["threshold"] for e in await _reached(api)] == [100]


async def test_a_company_without_alerts_hears_of_none(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=1)
    other = await api.company("boss@globex.test", "Globex")
    await _set(api, other["id"], {"product_id": product["id"], "thresholds": [1]})
    await api.assign({"subscription_id": sub_id}, "ann@acme.test")  # Acme: 100%
    assert await _reached(api) == []
    assert await api.get(f"/v1/companies/{company['id']}/seat-alerts") == {"data": []}


async def test_concurrent_assignments_tell_one_crossing_once(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=5)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [40]})
    pool = {"subscription_id": sub_id}
    await asyncio.gather(*(api.assign(pool, f"p{i}@acme.test") for i in range(5)))
    [told] = await _reached(api)
    assert (told["data"]["threshold"], told["data"]["used"]) == (40, 2)


@pytest.mark.postgresql_only  # SQLite serialises its writers: no two transactions write at once
async def test_two_pools_of_a_product_changed_at_once_are_counted_together(api: Api) -> None:
    """Two pools of one product lock different rows: two transactions, each taking a seat of
    one, commit at once. Each must count the other's seat, or the crossing they make together
    would go untold: the second evaluation waits for the first's commit (the thresholds' rows
    are locked) and then counts both seats."""
    company, product, first = await _pool(api, seats=2)
    second = await api.buy(product["prices"][0]["id"], company["id"], seats=2)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [50]})
    rt = api.runtime
    async with rt.transaction() as one, rt.transaction() as other:
        for uow, sub_id in [(one, first), (other, second["subscription_id"])]:
            assert await uow.pools.take(PoolRef.of(sub_id, None)) is not None
            uow.emit(EventType.SUBSCRIPTION_UPDATED, await uow.subscriptions.current(sub_id))
        await asyncio.gather(one.commit(), other.commit())
    [told] = await _reached(api)
    assert (told["data"]["used"], told["data"]["limit"]) == (2, 4)


async def test_the_billing_manager_is_emailed(api: Api) -> None:
    company, product, sub_id = await _pool(api, seats=10)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [80]})
    for i in range(8):
        await api.assign({"subscription_id": sub_id}, f"p{i}@acme.test")
    await fan_out_undelivered(api.runtime)
    [told] = await _reached(api)
    emails = await api.get(f"/v1/emails?to=boss@acme.test&event_id={told['id']}")
    [email] = emails["data"]
    assert email["subject"] == "Acme is using 8 of 10 seats of Team plan (80%)"
    assert "Acme is using 8 of 10 seats of Team plan (80%)." in email["text"]


async def test_removing_and_reading_alerts(api: Api) -> None:
    company, product, _ = await _pool(api)
    path = f"/v1/companies/{company['id']}/seat-alerts"
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [90]})
    manager = await api.session(company["billing_manager_member_id"])
    assert await api.get(path, token=manager) == {
        "data": [{"product_id": product["id"], "thresholds": [90]}]
    }
    # The billing manager may set them too (the emails are theirs), as in the portal.
    body = {"product_id": product["id"], "thresholds": [95]}
    answer = await api.call("PUT", path, 200, token=manager, json=body)
    assert answer.json() == {"data": [{"product_id": product["id"], "thresholds": [95]}]}
    assert await _set(api, company["id"], {"product_id": product["id"], "thresholds": []}) == {
        "data": []
    }


@pytest.mark.parametrize(
    ("thresholds", "field"),
    [
        ([0], "thresholds[0]"),
        ([80, 101], "thresholds[1]"),
        ([80, 80], "thresholds"),
        ([10, 20, 30, 40, 50, 60], "thresholds"),
        (["80"], "thresholds[0]"),
        ([80.5], "thresholds[0]"),
        (None, "thresholds"),
    ],
)
async def test_bad_thresholds_are_refused_by_field(
    api: Api, thresholds: object, field: str
) -> None:
    company, product, _ = await _pool(api)
    body = {"product_id": product["id"], "thresholds": thresholds}
    answer = await _set(api, company["id"], body, 422)
    assert answer["code"] == "validation_error"
    assert field in [error["field"] for error in answer["errors"]]
    assert await api.get(f"/v1/companies/{company['id']}/seat-alerts") == {"data": []}


async def test_unknown_company_or_product_is_not_found(api: Api) -> None:
    company, product, _ = await _pool(api)
    unknown = await _set(api, company["id"], {"product_id": "prod_nope", "thresholds": [80]}, 404)
    assert unknown["errors"] == [{"field": "product_id", "message": "no such product"}]
    body = {"product_id": product["id"], "thresholds": [80]}
    problem(
        await api.call("PUT", "/v1/companies/comp_nope/seat-alerts", json=body), 404, "not_found"
    )


@pytest.mark.postgresql_only  # round trips are counted as psycopg makes them
async def test_round_trips_of_a_company_with_alerts(api: Api) -> None:
    """On PostgreSQL: a company without alerts keeps its one-statement assignment and
    two-statement revocation (``test_hot_path_round_trips``); one with alerts is served step by
    step, the counts pinned here so that they grow only knowingly."""
    company, product, sub_id = await _pool(api, seats=5)
    await _set(api, company["id"], {"product_id": product["id"], "thresholds": [20]})
    body = {"subscription_id": sub_id, "email": "ann@acme.test"}
    with counting(api.runtime.engine) as assigning:
        seat = (await api.call("POST", "/v1/seats", 201, json=body)).json()
    with counting(api.runtime.engine) as revoking:
        await api.call("DELETE", f"/v1/seats/{seat['id']}", 200)
    for name, trips in {"assign": assigning, "revoke": revoking}.items():
        print(f"{name}: {trips.count} round trips: {' | '.join(trips.statements)}")
    assert len(await _reached(api)) == 1
    # Assign: the one statement, refused for the alerts; BEGIN, take, seat, thresholds (locked),
    # pools, the crossing, outbox, COMMIT. Revoke: the plan, BEGIN, pool lock, seat, grants,
    # thresholds, pools, re-arm, outbox, COMMIT.
    assert (assigning.count, revoking.count) == (9, 10)
