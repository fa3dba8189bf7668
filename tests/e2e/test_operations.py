"""Operating it (SPEC §8): ``/metrics`` counts what happened by route template and outcome,
every request gets an id and one log line without a secret in it."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from seatledger.services.runtime import Runtime
from tests.e2e.api import Api


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of ``/metrics``: (name, sorted labels) → value."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_by_route_template_and_the_seats(
    api: Api, client: httpx.AsyncClient
) -> None:
    before = await scrape(client)
    subscription_id, _ = await api.subscription(seats=3)
    pool = {"subscription_id": subscription_id}
    ann = await api.assign(pool, "ann@acme.test")
    await api.assign(pool, "bob@acme.test", immediate_claim=True)
    token = ann["invitation"]["token"]
    await api.call("POST", f"/v1/claims/{token}", 200)
    await api.call("DELETE", f"/v1/seats/{ann['id']}", 200)
    await api.get(f"/v1/seats/{ann['id']}")
    await api.call("GET", "/v1/seats/seat_nope", 404)
    after = await scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("seatledger_seats_assigned_total") == 2
    assert grew("seatledger_seats_claimed_total") == 2  # one by token, one at once
    assert grew("seatledger_seats_revoked_total") == 1
    seat_route = {"method": "GET", "route": "/v1/seats/{seat_id}"}
    assert grew("seatledger_http_requests_total", **seat_route, status="200") == 1
    assert grew("seatledger_http_requests_total", **seat_route, status="404") == 1
    assert grew("seatledger_http_request_duration_seconds_count", **seat_route) == 2
    claim_route = {"method": "POST", "route": "/v1/claims/{token}", "status": "200"}
    assert grew("seatledger_http_requests_total", **claim_route) == 1
    # No raw path, no id and no token in any label.
    text = (await client.get("/metrics")).text
    assert token not in text
    assert ann["id"] not in text
    assert subscription_id not in text


async def test_metrics_read_the_backlog_from_the_database(
    api: Api, client: httpx.AsyncClient, runtime: Runtime
) -> None:
    before = await scrape(client)
    assert value(before, "seatledger_backlog_up") == 1
    await api.company()  # company.created and member.added wait in the outbox
    runtime.clock.advance(timedelta(seconds=90))  # type: ignore[attr-defined]
    after = await scrape(client)
    assert value(after, "seatledger_outbox_undelivered") >= 2
    assert value(after, "seatledger_outbox_oldest_undelivered_age_seconds") >= 90
    assert value(after, "seatledger_webhook_endpoints_failing") == 0


async def test_metrics_need_no_credential_and_stay_out_of_the_api_description(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    for name in (
        "seatledger_renewals_total",
        "seatledger_payment_failures_total",
        "seatledger_webhook_deliveries_total",
        "seatledger_emails_total",
        "seatledger_drift_clamps_total",
    ):
        assert re.search(rf"^{name}(\{{[^}}]*\}})? [0-9.e+]+$", response.text, re.MULTILINE), name
    schema = (await client.get("/openapi.json")).json()
    assert "/metrics" not in schema["paths"]


async def test_a_declined_payment_is_counted(api: Api, client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    body = {"payment_method": "pm_card_declined"}
    await api.post(f"/v1/checkouts/{checkout['id']}/confirm", body, 402)
    after = await scrape(client)
    name = "seatledger_payment_failures_total"
    assert value(after, name, gateway="local") - value(before, name, gateway="local") == 1


async def test_every_answer_carries_a_request_id_and_a_sane_one_is_kept(
    client: httpx.AsyncClient,
) -> None:
    made = (await client.get("/healthz")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert (await client.get("/healthz")).headers["x-request-id"] != made
    kept = await client.get("/healthz", headers={"X-Request-Id": "lb-7f3a:01.x_y"})
    assert kept.headers["x-request-id"] == "lb-7f3a:01.x_y"
    for insane in ("a b", "x" * 129, "<script>", "ä".encode()):
        replaced = await client.get("/v1/nothing", headers={"X-Request-Id": insane})
        assert replaced.status_code == 404
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])


async def test_one_request_line_with_route_status_caller_and_no_secret(
    api: Api, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    subscription_id, company = await api.subscription(seats=2)
    seat = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    token = seat["invitation"]["token"]
    session = await api.session(company["billing_manager_member_id"])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seatledger.request"):
        await client.get(f"/v1/claims/{token}", headers={"X-Request-Id": "req-1"})
        await api.call("GET", f"/v1/seats?subscription_id={subscription_id}", 200, token=session)
        await api.call("GET", f"/v1/products?token={token}&session={session}", 200)
    lines = [r.msg for r in caplog.records if r.name == "seatledger.request"]
    assert [line["route"] for line in lines] == [
        "/v1/claims/{token}",
        "/v1/seats",
        "/v1/products",
    ]
    first = lines[0]
    assert first["request_id"] == "req-1"
    assert (first["method"], first["status"], first["caller"]) == ("GET", 200, "none")
    assert isinstance(first["duration_ms"], float)
    assert [line["caller"] for line in lines[1:]] == ["session", "key"]
    # The redaction runs when the line is rendered: render them as a server does.
    from seatledger.observability.logs import formatter

    rendered = "\n".join(formatter("json").format(record) for record in caplog.records)
    assert token not in rendered
    assert session not in rendered
    assert "/v1/claims/[redacted]" in rendered
