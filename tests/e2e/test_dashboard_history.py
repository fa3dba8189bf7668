"""The dashboard's charts over time (SPEC §11): seats bought and assigned and MRR at the end of
each month, from the history the database keeps (subscription events, seat rows, orders), as
the sandbox clock moves across months: a seat count raised in February counts from February
only, a subscription canceled in March stops counting in March, and yearly prices make MRR
summed exactly and rounded once."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from seatledger.services import dashboard_charts
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api
from tests.e2e.dashboard import Dashboard, new_user

YEARLY = {"interval": "year", "tiers": [{"up_to": None, "unit_amount": 1001}]}


@pytest.fixture
async def board(client: httpx.AsyncClient, runtime: Runtime) -> Dashboard:
    signed_in = Dashboard(client)
    await signed_in.login(await new_user(runtime))
    return signed_in


def _dots(page: str, series: str) -> list[int]:
    block = re.search(rf'data-series="{series}">(.*?)</g>', page, re.S)
    assert block is not None, series
    return [int(v) for v in re.findall(r'data-value="(-?\d+)"', block.group(1))]


async def _move(api: Api, now: str) -> None:
    await api.post("/v1/sandbox/clock", {"now": now}, 200)


async def test_the_charts_follow_the_history_month_by_month(
    board: Dashboard, api: Api, runtime: Runtime
) -> None:
    await _move(api, "2027-01-10T09:00:00Z")
    monthly, company = await api.subscription(seats=3)  # $10.00 a seat a month
    yearly_price = await api.price(**YEARLY)  # $10.01 a seat a year
    first = (await api.buy(yearly_price, company["id"], seats=1))["subscription_id"]
    await api.buy(yearly_price, company["id"], seats=1)
    ann = await api.assign({"subscription_id": monthly}, "ann@acme.test")
    await api.assign({"subscription_id": monthly}, "bob@acme.test")

    await _move(api, "2027-02-05T09:00:00Z")
    await api.call("PATCH", f"/v1/subscriptions/{monthly}", 200, json={"seats": 5})
    await api.call("DELETE", f"/v1/seats/{ann['id']}", 200)
    one_time = await api.price(interval=None)
    await api.buy(one_time, company["id"], seats=4)  # an order: seats, never MRR

    await _move(api, "2027-03-20T09:00:00Z")  # the monthly one renews on Feb 10 and Mar 10
    await api.post(f"/v1/subscriptions/{first}/cancel", {"at_period_end": False}, 200)
    await _move(api, "2027-04-02T09:00:00Z")

    data = await dashboard_charts.charts(runtime)
    assert data.labels[-4:] == ("Jan 2027", "Feb 2027", "Mar 2027", "Apr 2027")
    assert data.labels[0] == "May 2026"
    # Seats bought at each month's end: 3 + 1 + 1; then 5 + 1 + 1 and the order's 4; then
    # the canceled yearly one no longer counts.
    assert data.bought == (0,) * 8 + (5, 11, 10, 10)
    assert data.assigned == (0,) * 8 + (2, 1, 1, 1)
    # MRR: 3 × 1000 + 2 × 1001 / 12 = 3166.83… → 3167 (rounded once: 83 + 83 would be 3166);
    # then 5 × 1000 + 166.83…; then one yearly seat left: 5000 + 83.41… → 5083.
    assert data.mrr == {"usd": (0,) * 8 + (3167, 5167, 5083, 5083)}

    page = (await board.get("/dashboard")).text
    assert _dots(page, "bought") == list(data.bought)
    assert _dots(page, "assigned") == list(data.assigned)
    assert _dots(page, "mrr") == list(data.mrr["usd"])
    assert "<td>Feb 2027</td><td>11</td><td>1</td>" in page
    assert '<td data-value="5167">$51.67</td>' in page


async def test_the_history_is_read_in_three_statements_however_many_months(
    api: Api, runtime: Runtime
) -> None:
    subscription_id, _ = await api.subscription(seats=3)
    for month in range(2, 6):
        await _move(api, f"2027-{month:02d}-15T00:00:00Z")
        await api.call("PATCH", f"/v1/subscriptions/{subscription_id}", 200, json={"seats": month})
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        counts = []
        for points in (2, 12, 48):
            statements.clear()
            data = await dashboard_charts.charts(runtime, points=points)
            counts.append(sum(1 for s in statements if s.lstrip().upper().startswith("SELECT")))
            assert data.bought[-1] == 5
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert counts == [3, 3, 3]
    assert data.bought[-5:] == (3, 2, 3, 4, 5)
