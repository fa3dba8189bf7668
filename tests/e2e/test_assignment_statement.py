"""An assignment to an email is one statement on PostgreSQL (``seatledger.adapters.db.assignment``):
its events are rendered before the statement, and the two fields only the statement finds (the
company's member of that address, the pool's company) come from the inserted row. The same
answers on SQLite, where the statements run one by one."""

from __future__ import annotations

from typing import Any

from tests.e2e.api import Api


async def _events(api: Api, event_type: str) -> list[dict[str, Any]]:
    page = await api.get(f"/v1/events?limit=100&type={event_type}")
    return [event for event in page["data"] if event["type"] == event_type]


async def test_the_assigned_event_names_the_member_of_that_address(api: Api) -> None:
    subscription_id, company = await api.subscription(seats=3)
    members = await api.get(f"/v1/companies/{company['id']}/members")
    manager = next(m for m in members["data"] if m["email"] == "boss@acme.test")
    seat = await api.assign({"subscription_id": subscription_id}, "Boss@Acme.test")
    stranger = await api.assign({"subscription_id": subscription_id}, "new@acme.test")
    assert seat["member_id"] == manager["id"]
    assert stranger["member_id"] is None
    events = {e["data"]["id"]: e["data"] for e in await _events(api, "seat.assigned")}
    for answer in (seat, stranger):
        shown = await api.get(f"/v1/seats/{answer['id']}")
        assert events[answer["id"]] == shown
        assert {k: v for k, v in answer.items() if k != "invitation"} == shown


async def test_a_refused_assignment_writes_no_seat_and_no_event(api: Api) -> None:
    subscription_id, _ = await api.subscription(seats=1)
    await api.assign({"subscription_id": subscription_id}, "a@acme.test")
    before = await _events(api, "seat.assigned")
    for email in ("b@acme.test", "a@acme.test"):
        response = await api.call(
            "POST", "/v1/seats", json={"subscription_id": subscription_id, "email": email}
        )
        assert response.status_code == 409
        assert response.json()["code"] == "no_seats_available"
    listed = await api.get(f"/v1/seats?subscription_id={subscription_id}")
    assert [s["email"] for s in listed["data"]] == ["a@acme.test"]
    assert listed["assigned_seats"] == 1
    assert await _events(api, "seat.assigned") == before


async def test_the_same_person_twice_is_refused_and_changes_nothing(api: Api) -> None:
    subscription_id, _ = await api.subscription(seats=3)
    await api.assign({"subscription_id": subscription_id}, "a@acme.test")
    response = await api.call(
        "POST", "/v1/seats", json={"subscription_id": subscription_id, "email": "A@acme.test"}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "already_assigned"
    listed = await api.get(f"/v1/seats?subscription_id={subscription_id}")
    assert listed["assigned_seats"] == 1
    assert len(await _events(api, "seat.assigned")) == 1
