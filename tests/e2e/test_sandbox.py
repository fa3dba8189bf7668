"""The sandbox clock (SPEC §6): only with SEATLEDGER_SANDBOX=1."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.payments.local import LocalGateway
from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, bearer, problem


async def test_the_clock_is_read_and_moved_forward(api: Api) -> None:
    assert await api.get("/v1/sandbox/clock") == {"now": "2027-01-01T00:00:00Z"}
    moved = await api.post("/v1/sandbox/clock", {"now": "2027-01-15T12:00:00+02:00"}, 200)
    assert moved == {"now": "2027-01-15T10:00:00Z", "renewed": []}
    assert await api.get("/v1/sandbox/clock") == {"now": "2027-01-15T10:00:00Z"}
    past = await api.call("POST", "/v1/sandbox/clock", json={"now": "2027-01-01T00:00:00Z"})
    problem(past, 422, "validation_error", "now")
    for wrong in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2027-02-01T00:00"):
        response = await api.call("POST", "/v1/sandbox/clock", json={"now": wrong})
        problem(response, 422, "validation_error", "now")


async def test_moving_the_clock_renews_what_falls_due(api: Api) -> None:
    subscription_id, _ = await api.subscription(seats=2)
    moved = await api.post("/v1/sandbox/clock", {"now": "2027-03-15T00:00:00Z"}, 200)
    assert moved["renewed"] == [subscription_id, subscription_id]  # February and March
    subscription = await api.get(f"/v1/subscriptions/{subscription_id}")
    assert subscription["current_period_start"] == "2027-03-01T00:00:00Z"
    invoices = (await api.get(f"/v1/invoices?subscription_id={subscription_id}"))["data"]
    assert [i["number"] for i in invoices] == ["INV-000001", "INV-000002", "INV-000003"]


async def test_without_the_sandbox_the_clock_does_not_exist(
    engine: AsyncEngine, settings: Settings, key: str, clock: FixedClock
) -> None:
    runtime = Runtime(
        engine=engine,
        clock=clock,
        settings=settings.model_copy(update={"sandbox": False}),
        gateway=LocalGateway(),
    )
    app = create_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        headers = bearer(key)
        problem(await client.get("/v1/sandbox/clock", headers=headers), 404, "not_found")
        response = await client.post(
            "/v1/sandbox/clock", headers=headers, json={"now": "2027-02-01T00:00:00Z"}
        )
        problem(response, 404, "not_found")
        assert "/v1/sandbox/clock" not in app.openapi()["paths"]
        assert (await client.get("/v1/products", headers=headers)).status_code == 200


async def test_a_time_before_the_first_utc_instant_is_a_422(api: Api) -> None:
    early = {"now": "0001-01-01T00:00:00+00:01"}
    response = await api.call("POST", "/v1/sandbox/clock", json=early)
    problem(response, 422, "validation_error", "now")
