"""Events (SPEC §10): `GET /v1/events` and `GET /v1/events/{id}` show the outbox's catalogued
events, `{id, type, created_at, data}`, newest first; internal records never; merchants only.
`/openapi.json`'s `webhooks` documents every type with the object its `data` is."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.domain.events import EventType
from tests.e2e.api import Api, problem, row_counts


async def _outbox(api: Api) -> list[tuple[str, str]]:
    """(event id, type) of every outbox row, internal records included, in written order."""
    async with api.runtime.reading() as uow:
        query = select(t.outbox.c.event_id, t.outbox.c.type).order_by(t.outbox.c.id)
        return [(row.event_id, row.type) for row in (await uow.connection.execute(query)).all()]


async def _pages(api: Api, query: str = "", limit: int = 2) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        path = f"/v1/events?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        page = await api.get(path)
        assert set(page) == {"data", "has_more", "next_cursor"}
        events += page["data"]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return events
        cursor = page["next_cursor"]
        assert cursor == page["data"][-1]["id"]


async def test_events_of_one_instant_are_listed_as_they_were_written(api: Api) -> None:
    async with api.runtime.transaction() as uow:  # ids alone would order these at random
        for i in range(40):
            uow.emit(EventType.COMPANY_UPDATED, {"id": f"co_{i}"})
        await uow.commit()
    events = await _pages(api, limit=7)
    assert [event["data"]["id"] for event in events] == [f"co_{i}" for i in reversed(range(40))]


async def test_events_are_listed_newest_first_without_internal_records(api: Api) -> None:
    subscription_id, company = await api.subscription(seats=2)
    await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    outbox = await _outbox(api)
    catalogued = [i for i, kind in reversed(outbox) if kind in set(EventType)]
    assert any(kind not in set(EventType) for _, kind in outbox)  # product.created, …

    events = await _pages(api)
    assert [event["id"] for event in events] == catalogued
    for event in events:
        assert set(event) == {"id", "type", "created_at", "data"}
        assert event["type"] in set(EventType)
        assert event["created_at"].endswith("Z")
    assert {"company.created", "subscription.created", "seat.assigned"} <= {
        event["type"] for event in events
    }

    seats = await _pages(api, "&type=seat.assigned", limit=1)
    assert [event["type"] for event in seats] == ["seat.assigned"]
    one = await api.get(f"/v1/events/{seats[0]['id']}")
    assert one == seats[0]
    created = await api.get("/v1/events?type=company.created")
    assert [event["data"] for event in created["data"]] == [company]


async def test_internal_records_and_unknown_ids_are_not_found(api: Api) -> None:
    await api.product()
    outbox = await _outbox(api)
    assert {kind for _, kind in outbox} == {"api_key.created", "product.created"}
    [internal] = [i for i, kind in outbox if kind == "product.created"]
    problem(await api.call("GET", f"/v1/events/{internal}"), 404, "not_found")
    problem(await api.call("GET", "/v1/events/evt_01jzzzzzzzzzzzzzzzzzzzzzzz"), 404, "not_found")
    problem(await api.call("GET", "/v1/events/not-an-id"), 404, "not_found")
    assert (await api.get("/v1/events"))["data"] == []


async def test_bad_filters_are_422_naming_the_field(api: Api) -> None:
    before = await row_counts(api.runtime)
    for query, field in [
        ("type=product.created", "type"),  # internal, not of the catalogue
        ("type=seat.exploded", "type"),
        ("type=" + "x" * 61, "type"),
        ("type=seat%00assigned", "type"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=nope", "cursor"),
    ]:
        problem(await api.call("GET", f"/v1/events?{query}"), 422, "validation_error", field)
    assert await row_counts(api.runtime) == before


async def test_only_merchant_keys_read_events(api: Api, client: httpx.AsyncClient) -> None:
    _, company = await api.subscription()
    [member] = (await api.get(f"/v1/companies/{company['id']}/members"))["data"]
    token = await api.session(member["id"])  # the billing manager's own session
    [event] = (await api.get("/v1/events?type=company.created"))["data"]
    problem(await api.call("GET", "/v1/events", token=token), 403, "forbidden")
    problem(await api.call("GET", f"/v1/events/{event['id']}", token=token), 403, "forbidden")
    problem(await client.get("/v1/events"), 401, "unauthenticated")


async def test_every_event_type_is_documented_as_a_webhook(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    webhooks = schema["webhooks"]
    assert set(webhooks) == set(EventType)

    def resolve(reference: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = components[reference["$ref"].rsplit("/", 1)[-1]]
        return found

    data_of: dict[str, Any] = {}
    for event_type in EventType:
        operation = webhooks[event_type]["post"]
        assert operation["operationId"] == event_type.replace(".", "_")
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        event = resolve(body)
        assert set(event["required"]) == {"id", "type", "created_at", "data"}
        assert event["properties"]["type"]["const"] == event_type
        data_of[event_type] = event["properties"]["data"]
        assert operation["responses"]  # no dangling reference to FastAPI's own 422
        assert "HTTPValidationError" not in str(operation)

    def named(event_type: str) -> str:
        return str(data_of[event_type].get("$ref", "")).rsplit("/", 1)[-1]

    assert named("seat.assigned") == named("seat.revoked") == "SeatOut"
    assert "invitation" not in components["SeatOut"]["properties"]
    assert {named(kind) for kind in EventType if kind.startswith("subscription.")} == {
        "SubscriptionOut",
        "SeatsDriftOut",
    }
    assert named("subscription.seats_drift_detected") == "SeatsDriftOut"
    drift = components["SeatsDriftOut"]["properties"]
    assert drift["subscription"]["$ref"].endswith("/SubscriptionOut")
    assert {"seats", "assigned_seats"} <= set(drift)
    assert named("invoice.paid") == named("invoice.payment_failed") == "InvoiceOut"
    assert named("order.paid") == "OrderOut"
    assert named("checkout.completed") == "CheckoutOut"
    assert named("member.added") == named("member.removed") == "MemberOut"
    assert named("company.created") == named("company.updated") == "CompanyOut"
    grant = data_of["benefit_grant.created"]
    assert grant["discriminator"]["propertyName"] == "type"
    assert grant == data_of["benefit_grant.revoked"]
