"""Abuse at the door: bodies capped before they are read, credentials checked before the body,
claims throttled per address, downloads sandboxed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from seatledger.api.app import create_app
from seatledger.api.request_gate import JSON_LIMIT, UPLOAD_LIMIT
from seatledger.config import Settings
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api, problem, row_counts


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


async def test_a_body_over_its_cap_is_refused_by_its_length_alone(
    api: Api, runtime: Runtime
) -> None:
    counts = await row_counts(runtime)
    headers = {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024)}
    # The declared length is enough: the body is never sent (the transport would block on it).
    response = await api.call("POST", "/v1/companies", headers=headers, content=b"")
    problem(response, 413, "payload_too_large")
    assert str(JSON_LIMIT) in response.json()["detail"]
    assert await row_counts(runtime) == counts


async def test_a_chunked_body_is_cut_off_at_the_cap(api: Api, runtime: Runtime) -> None:
    counts = await row_counts(runtime)
    for path in ("/v1/companies", "/v1/products"):
        response = await api.call(
            "POST",
            path,
            headers={"Content-Type": "application/json"},
            content=chunks(JSON_LIMIT + 1),
        )
        problem(response, 413, "payload_too_large")
    keyed = await api.call(  # the idempotency middleware reads it: cut off all the same
        "POST",
        "/v1/companies",
        headers={"Content-Type": "application/json", "Idempotency-Key": "k-1"},
        content=chunks(3 * JSON_LIMIT),
    )
    problem(keyed, 413, "payload_too_large")
    assert await row_counts(runtime) == counts


async def test_uploads_have_their_own_cap(api: Api) -> None:
    small = await api.call(
        "POST", "/v1/files", files={"file": ("a.txt", b"x" * (2 * JSON_LIMIT), "text/plain")}
    )
    assert small.status_code == 201, small.text
    head = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )

    async def endless_file() -> AsyncIterator[bytes]:
        yield head
        async for chunk in chunks(UPLOAD_LIMIT + 1, 1024 * 1024):
            yield chunk.replace(b" ", b"x")

    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    over = await api.call("POST", "/v1/files", headers=headers, content=endless_file())
    problem(over, 413, "payload_too_large")


async def test_no_credential_is_refused_before_the_body_is_read(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    read = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(8):
            read += 1
            yield b"{" * 1024

    for headers in ({}, {"Authorization": "Bearer sl_not_a_key"}):
        response = await client.post(
            "/v1/companies",
            headers={**headers, "Content-Type": "application/json"},
            content=counted(),
        )
        problem(response, 401, "unauthenticated")
    assert read == 0
    # Public routes with a body are only capped: the token is their credential.
    claim = await client.post("/v1/claims/nope", content=b"{}")
    problem(claim, 400, "invalid_token")


@pytest.fixture
def throttled(runtime: Runtime) -> Runtime:
    settings = Settings(**{**runtime.settings.model_dump(), "claim_rate_per_minute": 3})
    return Runtime(
        engine=runtime.engine,
        clock=runtime.clock,
        settings=settings,
        gateway=runtime.gateway,
        render_event=runtime.render_event,
    )


async def test_claims_and_look_ups_are_throttled_per_address(throttled: Runtime) -> None:
    app = create_app(throttled)

    def client_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 4000))
        return httpx.AsyncClient(transport=transport, base_url="http://seatledger.test")

    async with client_from("203.0.113.7") as one, client_from("203.0.113.8") as other:
        answers = [
            await one.get("/v1/claims/tok-a"),
            await one.post("/v1/claims/tok-b"),
            await one.get("/claim/tok-c"),
        ]
        assert [a.status_code for a in answers][:2] == [400, 400]
        refused = await one.get("/v1/claims/tok-d")
        body = problem(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert refused.headers["retry-after"] in body["detail"]
        problem(await one.post("/v1/claims/tok-e"), 429, "rate_limited")
        # Another address has its own bucket; other routes are not throttled.
        problem(await other.get("/v1/claims/tok-f"), 400, "invalid_token")
        assert (await one.get("/healthz")).status_code == 200


async def test_downloads_are_sandboxed_attachments(api: Api) -> None:
    stored = await api.post(
        "/v1/files", files={"file": ("x.html", b"<script>alert(1)</script>", "text/html")}
    )
    benefit = await api.post(
        "/v1/benefits",
        {"type": "file_download", "description": "x", "properties": {"file_id": stored["id"]}},
    )
    subscription_id, _ = await api.subscription(extra={"benefit_ids": [benefit["id"]]})
    seat = await api.assign(
        {"subscription_id": subscription_id}, "ann@acme.test", immediate_claim=True
    )
    entitled = await api.get(f"/v1/members/{seat['member_id']}/entitlements")
    [grant] = entitled["products"][0]["benefits"]
    link = grant["properties"]["download_url"]
    response = await api.client.get(link)
    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
