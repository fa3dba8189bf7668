"""One timestamp format in every answer (SPEC §6): ``2031-01-16T12:00:00Z``, UTC, whole seconds,
no offset, whatever the clock holds (here a time with microseconds)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from seatledger.domain.clock import FixedClock
from tests.e2e.api import PRICE, Api

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# A string that starts like a date and a time is a timestamp, whatever its key.
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d")
TIME_KEYS = re.compile(r".*_(at|start|end)|now")


def _values(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _values(item, name)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item, key)
    else:
        yield key, value


def _timestamps(answer: Any) -> list[tuple[str, str]]:
    """Every timestamp-like value of an answer: by its key's name or by its look."""
    found = []
    for key, value in _values(answer):
        by_key = TIME_KEYS.fullmatch(key) is not None and value is not None
        by_key = by_key and not isinstance(value, bool)
        by_look = isinstance(value, str) and LOOKS_LIKE_TIME.match(value) is not None
        if by_key or by_look:
            found.append((key, value))
    return found


@pytest.fixture
def answers(api: Api) -> list[tuple[str, Any]]:
    """Every JSON answer the client receives, with its request."""
    seen: list[tuple[str, Any]] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        if response.headers.get("content-type", "").endswith("json") and response.content:
            seen.append((f"{response.request.method} {response.request.url.path}", response.json()))

    api.client.event_hooks["response"].append(record)
    return seen


async def test_every_answer_of_a_full_flow_writes_times_one_way(
    api: Api, clock: FixedClock, answers: list[tuple[str, Any]]
) -> None:
    clock.set(datetime(2031, 1, 16, 12, 0, 0, 987654, tzinfo=UTC))
    upload = await api.call(
        "POST", "/v1/files", 201, files={"file": ("guide.pdf", b"%PDF-1.7", "application/pdf")}
    )
    benefits = [
        await api.post("/v1/benefits", {"type": kind, "description": kind, "properties": props})
        for kind, props in (
            ("file_download", {"file_id": upload.json()["id"]}),
            ("license_key", {"prefix": "TEAM"}),
            ("access_grant", {"role": "admin"}),
            ("custom", {"note": "Hello"}),
        )
    ]
    product = await api.product({"benefit_ids": [b["id"] for b in benefits]})
    price_id = product["prices"][0]["id"]
    added = await api.post(f"/v1/products/{product['id']}/prices", PRICE)
    await api.post(f"/v1/prices/{added['id']}/archive", None, 200)
    company = await api.company()
    await api.get(f"/v1/companies/{company['id']}")
    checkout = await api.checkout(price_id, 3, company_id=company["id"])
    await api.call("PATCH", f"/v1/checkouts/{checkout['id']}", 200, json={"seats": 4})
    done = await api.post(
        f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
    )
    subscription_id = done["subscription_id"]
    pool = {"subscription_id": subscription_id}
    seat = await api.assign(pool, "ann@acme.test")
    await api.get(f"/v1/claims/{seat['invitation']['token']}", headers={"Authorization": ""})
    claim = await api.client.post(f"/v1/claims/{seat['invitation']['token']}")
    member_id = claim.json()["seat"]["member_id"]
    await api.get(f"/v1/members/{member_id}/entitlements")
    await api.get(f"/v1/companies/{company['id']}/members")
    await api.post("/v1/customer-sessions", {"member_id": member_id})
    other = await api.assign(pool, "bob@acme.test")
    await api.post(f"/v1/seats/{other['id']}/resend", {}, 200)
    await api.call("DELETE", f"/v1/seats/{other['id']}", 200)
    await api.get(f"/v1/seats?subscription_id={subscription_id}&include_revoked=true")
    await api.post(f"/v1/subscriptions/{subscription_id}/preview", {"seats": 6}, 200)
    await api.call("PATCH", f"/v1/subscriptions/{subscription_id}", 200, json={"seats": 6})
    clock.set(datetime(2031, 1, 20, 8, 30, 15, 500000, tzinfo=UTC))
    await api.call(
        "PATCH",
        f"/v1/subscriptions/{subscription_id}",
        200,
        json={"seats": 5, "proration_behavior": "next_period"},
    )
    await api.post("/v1/sandbox/clock", {"now": "2031-02-16T12:00:00.250+01:00"}, 200)
    await api.get("/v1/sandbox/clock")
    await api.get(f"/v1/invoices?subscription_id={subscription_id}")
    await api.get(f"/v1/subscriptions?company_id={company['id']}")
    await api.post("/v1/webhook-endpoints", {"url": "https://example.test/hooks"})
    await api.post(f"/v1/subscriptions/{subscription_id}/cancel", {"at_period_end": True}, 200)
    for listed in ("companies", "benefits", "checkouts", "webhook-endpoints", "invoices"):
        await api.get(f"/v1/{listed}")
    await api.get("/v1/subscriptions")
    await api.get(f"/v1/files/{upload.json()['id']}/download", expect=404)  # a problem document

    checked = [
        (request, key, value) for request, body in answers for key, value in _timestamps(body)
    ]
    wrong = [item for item in checked if not TIMESTAMP.fullmatch(str(item[2]))]
    assert not wrong
    keys = {key for _, key, _ in checked}
    assert {
        "created_at",
        "expires_at",
        "claimed_at",
        "revoked_at",
        "granted_at",
        "current_period_start",
        "current_period_end",
        "period_start",
        "period_end",
        "paid_at",
        "effective_at",
        "download_expires_at",
        "now",
    } <= keys
    assert ("POST /v1/sandbox/clock", "now", "2031-02-16T11:00:00Z") in checked
