"""Malformed input, however malformed, is a 4xx problem document and changes nothing (SPEC §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.services.runtime import Runtime
from tests.e2e.api import PRICE, Api, bearer, problem, row_counts

BAD_BODIES: list[tuple[bytes, str | None, int, str]] = [
    (b'{"name": ', "application/json", 400, "invalid_json"),
    (b"{'name': 'x'}", "application/json", 400, "invalid_json"),
    (b"\xff\xfe{}", "application/json", 400, "invalid_json"),
    (b"[" * 50_000, "application/json", 400, "invalid_json"),
    (b"[]", "application/json", 400, "invalid_json"),
    (b'"text"', "application/json", 400, "invalid_json"),
    (b"42", "application/json", 400, "invalid_json"),
    (b"null", "application/json", 400, "invalid_json"),
    (b"", "application/json", 400, "invalid_json"),
    (b'{"name": "x"}', "text/plain", 400, "invalid_json"),
    (b'{"name": "x"}', None, 400, "invalid_json"),
    (b"{}", "application/json", 422, "validation_error"),
    (b'{"unknown": 1}', "application/json", 422, "validation_error"),
    (b'{"name": "\\u0000", "prices": [], "seats": 1}', "application/json", 422, "validation_error"),
    (b'{"name": "\\ud800", "email": "\\udfff"}', "application/json", 422, "validation_error"),
    (b'{"name": 1e400}', "application/json", 422, "validation_error"),
    (b'{"name": ' + b"9" * 5000 + b"}", "application/json", 422, "validation_error"),
    (b'{"name": NaN}', "application/json", 400, "invalid_json"),
    (b'{"name": -Infinity}', "application/json", 400, "invalid_json"),
]


@pytest.fixture
async def targets(api: Api) -> list[str]:
    """A POST or PATCH route of each noun, on real objects."""
    subscription_id, company = await api.subscription(seats=3)
    checkout = await api.checkout(await api.price(), 2, company_id=company["id"])
    seat = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    product = await api.product()
    return [
        "POST /v1/products",
        f"POST /v1/products/{product['id']}/prices",
        "POST /v1/benefits",
        "POST /v1/companies",
        f"PATCH /v1/companies/{company['id']}",
        f"POST /v1/companies/{company['id']}/members",
        "POST /v1/checkouts",
        f"PATCH /v1/checkouts/{checkout['id']}",
        f"POST /v1/checkouts/{checkout['id']}/confirm",
        f"PATCH /v1/subscriptions/{subscription_id}",
        f"POST /v1/subscriptions/{subscription_id}/preview",
        f"POST /v1/subscriptions/{subscription_id}/cancel",
        f"POST /v1/subscriptions/{subscription_id}/attach",
        "POST /v1/seats",
        f"POST /v1/seats/{seat['id']}/resend",
        "POST /v1/customer-sessions",
        "POST /v1/webhook-endpoints",
        "POST /v1/sandbox/clock",
    ]


async def test_malformed_bodies_answer_a_problem_and_change_nothing(
    api: Api, runtime: Runtime, targets: list[str]
) -> None:
    counts = await row_counts(runtime)
    for target in targets:
        method, path = target.split(" ")
        # Routes whose fields are all optional: `{}` asks for nothing, and resend takes no body.
        all_optional = method == "PATCH" and "/checkouts/" not in path
        all_optional |= path.endswith(("/preview", "/resend"))
        for content, content_type, status, code in BAD_BODIES:
            headers = {} if content_type is None else {"Content-Type": content_type}
            response = await api.call(method, path, content=content, headers=headers)
            no_body = content in (b"", b"null")
            if (all_optional and content == b"{}") or (path.endswith("/resend") and no_body):
                assert response.status_code == 200, f"{target} {content[:30]!r}: {response.text}"
                continue
            assert response.status_code == status, f"{target} {content[:30]!r}: {response.text}"
            problem(response, status, code)
    after = await row_counts(runtime)
    # Only the resends above may have written (new tokens, outbox rows); nothing was created.
    assert {k: v for k, v in after.items() if k != "outbox"} == {
        k: v for k, v in counts.items() if k != "outbox"
    }


async def test_wrong_types_and_huge_numbers_name_their_field(api: Api, runtime: Runtime) -> None:
    subscription_id, company = await api.subscription(seats=3)
    counts = await row_counts(runtime)
    cases: list[tuple[str, str, Any, int, str, str]] = [
        ("POST", "/v1/products", {"name": 5, "prices": [PRICE]}, 422, "validation_error", "name"),
        ("POST", "/v1/products", {"name": "x", "prices": {}}, 422, "validation_error", "prices"),
        (
            "POST",
            "/v1/products",
            {"name": "x", "prices": [PRICE], "benefit_ids": "b"},
            422,
            "validation_error",
            "benefit_ids",
        ),
        (
            "POST",
            "/v1/products",
            {"name": "x", "prices": [{**PRICE, "minimum_seats": 10**30}]},
            422,
            "validation_error",
            "prices[0].minimum_seats",
        ),
        (
            "POST",
            "/v1/products",
            {"name": "x", "prices": [{**PRICE, "tiers": [{"up_to": None, "unit_amount": 10**30}]}]},
            422,
            "validation_error",
            "prices[0].tiers[0].unit_amount",
        ),
        (
            "POST",
            "/v1/companies",
            {"name": "x", "billing_manager": "boss@acme.test"},
            422,
            "validation_error",
            "billing_manager",
        ),
        (
            "POST",
            "/v1/companies",
            {"name": ["x"], "billing_manager": {"email": "a@b.test"}},
            422,
            "validation_error",
            "name",
        ),
        (
            "PATCH",
            f"/v1/subscriptions/{subscription_id}",
            {"seats": 10**30},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            "PATCH",
            f"/v1/subscriptions/{subscription_id}",
            {"seats": -5},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            "PATCH",
            f"/v1/subscriptions/{subscription_id}",
            {"seats": "many"},
            422,
            "validation_error",
            "seats",
        ),
        (
            "PATCH",
            f"/v1/subscriptions/{subscription_id}",
            {"cancel_at_period_end": 1},
            422,
            "validation_error",
            "cancel_at_period_end",
        ),
        (
            "POST",
            f"/v1/subscriptions/{subscription_id}/preview",
            {"seats": 10**30},
            422,
            "seats_out_of_range",
            "seats",
        ),
        (
            "POST",
            "/v1/seats",
            {"subscription_id": 5, "email": "a@b.test"},
            422,
            "validation_error",
            "subscription_id",
        ),
        (
            "POST",
            "/v1/seats",
            {"subscription_id": subscription_id, "email": "a@b.test", "metadata": {"n": 10**30}},
            422,
            "validation_error",
            "metadata.n",
        ),
        ("POST", "/v1/sandbox/clock", {"now": "yesterday"}, 422, "validation_error", "now"),
        (
            "POST",
            "/v1/sandbox/clock",
            {"now": "2026-01-01T00:00:00Z"},
            422,
            "validation_error",
            "now",
        ),
        (
            "POST",
            "/v1/sandbox/clock",
            {"now": "9999-12-31T23:59:59Z"},
            422,
            "validation_error",
            "now",
        ),
        (
            "POST",
            "/v1/sandbox/clock",
            {"now": "2027-06-01T00:00:00"},
            422,
            "validation_error",
            "now",
        ),
        ("GET", "/v1/products?limit=0", None, 422, "validation_error", "limit"),
        (
            "GET",
            "/v1/products?limit=10000000000000000000000",
            None,
            422,
            "validation_error",
            "limit",
        ),
        ("GET", "/v1/products?limit=ten", None, 422, "validation_error", "limit"),
        (
            "GET",
            f"/v1/seats?subscription_id={subscription_id}&include_revoked=maybe",
            None,
            422,
            "validation_error",
            "include_revoked",
        ),
        (
            "GET",
            f"/v1/invoices?company_id={company['id']}&order_id=x",
            None,
            404,
            "not_found",
            "order_id",
        ),
    ]
    for method, path, body, status, code, field in cases:
        problem(await api.call(method, path, json=body), status, code, field)
    assert await row_counts(runtime) == counts


async def test_unknown_routes_wrong_methods_and_malformed_ids(api: Api) -> None:
    problem(await api.call("GET", "/v1/nothing-here"), 404, "not_found")
    problem(await api.call("GET", "/nothing-here"), 404, "not_found")
    problem(await api.call("GET", "/docs-assets/nothing.js"), 404, "not_found")
    home = await api.call("POST", "/")
    problem(home, 405, "method_not_allowed")
    assert home.headers["allow"] == "GET"
    wrong = await api.call("PUT", "/v1/products")
    problem(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "GET, POST"
    problem(await api.call("DELETE", "/v1/companies"), 405, "method_not_allowed")
    for path in [
        "/v1/products/%00",
        "/v1/products/%FF%FE",
        "/v1/companies/' OR 1=1 --",
        "/v1/subscriptions/" + "s" * 5000,
        "/v1/invoices/inv_",
        "/v1/orders/ord_01m7zs3p6tr38e31arf4a25jt2x",
        "/v1/benefits/BEN_01M7ZS3P6TR38E31ARF4A25JT2",
    ]:
        problem(await api.call("GET", path), 404, "not_found")
    problem(await api.client.get("/v1/claims/%00"), 400, "invalid_token")
    problem(await api.client.get("/v1/files/x/download?expires=1" + "0" * 40), 404, "not_found")


async def test_an_unforeseen_failure_is_a_bare_500_problem(
    settings: Settings, tmp_path: Path, clock: FixedClock
) -> None:
    """A database without its schema: every query fails, and the answer still is a problem
    document that tells nothing of the cause."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
    runtime = Runtime(
        engine=create_engine(url),
        clock=clock,
        settings=settings.model_copy(update={"database_url": url}),
        gateway=LocalGateway(),
    )
    transport = httpx.ASGITransport(app=create_app(runtime), raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/v1/products", headers=bearer("sl_" + "x" * 43))
    finally:
        await runtime.engine.dispose()
    body = problem(response, 500, "internal_error")
    assert "sql" not in body["detail"].lower()
    assert "errors" not in body
