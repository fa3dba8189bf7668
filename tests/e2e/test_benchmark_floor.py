"""``make bench``'s floor (``benchmarks.floor``) runs the product's own assignment statement: the
seats it writes are the API's seats, counted in their pool, and a full pool refuses it as it
refuses ``POST /v1/seats``. Otherwise its figure would say nothing about the product's."""

from __future__ import annotations

import json

import pytest
from benchmarks.floor import Floor

from tests.e2e.api import Api

pytestmark = pytest.mark.postgresql_only  # the statement is PostgreSQL's (SQLite: one by one)


async def test_the_floor_writes_the_products_seats(
    api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    subscription_id, _ = await api.subscription(seats=2)
    monkeypatch.setenv("SEATLEDGER_DATABASE_URL", database_url)
    floor = Floor()
    await floor.start()
    try:
        answers = []
        for email in ("a@acme.test", "b@acme.test", "c@acme.test"):
            body = json.dumps({"subscription_id": subscription_id, "email": email})
            answers.append(await floor.assign(body.encode()))
    finally:
        await floor.stop()
    assert [status for status, _ in answers] == [201, 201, 409]
    listed = await api.get(f"/v1/seats?subscription_id={subscription_id}")
    assert listed["assigned_seats"] == 2
    assert sorted(seat["email"] for seat in listed["data"]) == ["a@acme.test", "b@acme.test"]
    first = json.loads(answers[0][1])
    shown = await api.get(f"/v1/seats/{first['id']}")
    assert (shown["status"], shown["subscription_id"]) == ("pending", subscription_id)
