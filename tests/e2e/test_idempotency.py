"""Idempotency-Key on POST (SPEC §6): replays, conflicts, scope and expiry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.local import reference_for
from seatledger.api.app import create_app
from seatledger.domain.clock import FixedClock
from seatledger.domain.payments import PaymentGateway, PaymentRequest, PaymentResult
from seatledger.services import api_keys, idempotency
from seatledger.services.runtime import Runtime
from tests.e2e.api import PRICE, Api, problem, row_counts

PRODUCT = {"name": "Team plan", "prices": [PRICE]}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


async def test_the_same_key_and_body_replays_the_first_answer(api: Api, runtime: Runtime) -> None:
    first = await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("k-1"))
    counts = await row_counts(runtime)
    # The same body in another key order and spacing is the same request.
    reordered = (
        b'{"prices": [{"tiers": [{"unit_amount": 1000, "up_to": null}], "interval": "month",'
        b' "currency": "usd"}],   "name": "Team plan"}'
    )
    again = await api.call(
        "POST",
        "/v1/products",
        201,
        content=reordered,
        headers={**keyed("k-1"), "Content-Type": "application/json"},
    )
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await row_counts(runtime) == counts  # no second product
    assert len((await api.get("/v1/products"))["data"]) == 1


async def test_another_body_under_the_same_key_is_a_conflict(api: Api, runtime: Runtime) -> None:
    await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("k-2"))
    counts = await row_counts(runtime)
    other = {**PRODUCT, "name": "Other"}
    response = await api.call("POST", "/v1/products", json=other, headers=keyed("k-2"))
    problem(response, 409, "idempotency_conflict")
    assert await row_counts(runtime) == counts


class GatedGateway:
    """The local gateway, but each charge waits until the test opens the gate."""

    def __init__(self, inner: PaymentGateway) -> None:
        self.inner = inner
        self.name = inner.name
        self.gate = asyncio.Event()
        self.waiting = 0

    def check_payment_method(self, payment_method: str) -> None:
        self.inner.check_payment_method(payment_method)

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.waiting += 1
        await self.gate.wait()
        return await self.inner.charge(request)


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_a_key_still_running_is_a_conflict(api: Api, runtime: Runtime) -> None:
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"
    card = {"payment_method": "pm_card_ok"}
    gated = GatedGateway(runtime.gateway)
    runtime.gateway = gated
    first = asyncio.create_task(api.call("POST", path, json=card, headers=keyed("k-3")))
    await _until(lambda: gated.waiting == 1)
    problem(
        await api.call("POST", path, json=card, headers=keyed("k-3")), 409, "idempotency_conflict"
    )
    gated.gate.set()
    answer = await first
    assert answer.status_code == 200, answer.text
    again = await api.call("POST", path, 200, json=card, headers=keyed("k-3"))
    assert again.content == answer.content
    assert again.headers["idempotent-replayed"] == "true"


async def test_two_processes_running_one_key_do_the_work_once(api: Api, runtime: Runtime) -> None:
    """Two servers (each its own app, as two processes are) get the same keyed confirm at
    once: both reach the provider (under one provider key), one records, the other's work is
    rolled back and it answers what the first stored."""
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"
    gated = GatedGateway(runtime.gateway)
    runtime.gateway = gated
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://other.test"
    )
    async with other:
        first = asyncio.create_task(
            api.call("POST", path, json={"payment_method": "pm_card_ok"}, headers=keyed("both"))
        )
        second = asyncio.create_task(
            other.post(
                path,
                json={"payment_method": "pm_card_ok"},
                headers={**api.headers, **keyed("both")},
            )
        )
        await _until(lambda: gated.waiting == 2)
        gated.gate.set()
        answers = await asyncio.gather(first, second)
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].content == answers[1].content
    assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == ["", "true"]
    counts = await row_counts(runtime)
    assert (counts["subscriptions"], counts["invoices"], counts["payments"]) == (1, 1, 1)


class CrashingAfterTheCharge:
    """The local gateway, but the process "dies" right after its first charge is taken."""

    def __init__(self, inner: PaymentGateway) -> None:
        self.inner = inner
        self.name = inner.name
        self.keys: list[str] = []

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        self.keys.append(request.idempotency_key)
        result = await self.inner.charge(request)
        if len(self.keys) == 1:
            raise RuntimeError("the process died after the charge")
        return result


async def test_a_charged_change_retried_later_is_charged_once(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    subscription_id, _ = await api.subscription(seats=3)
    clock.advance(timedelta(days=10))
    crashing = CrashingAfterTheCharge(runtime.gateway)
    runtime.gateway = crashing
    path = f"/v1/subscriptions/{subscription_id}"
    change = {"seats": 5, "proration_behavior": "invoice"}
    with pytest.raises(RuntimeError):
        await api.call("PATCH", path, json=change, headers=keyed("more-seats"))
    assert (await api.get(path))["seats"] == 3  # nothing was written
    clock.advance(timedelta(minutes=3))  # a later retry would prorate another amount
    done = await api.call("PATCH", path, 200, json=change, headers=keyed("more-seats"))
    assert done.json()["seats"] == 5
    assert crashing.keys[0] == crashing.keys[1]  # the same charge, asked for again
    async with runtime.engine.connect() as connection:
        payments = (await connection.execute(select(t.payments))).all()
    change_payments = [
        p for p in payments if p.provider_reference == reference_for(crashing.keys[0])
    ]
    assert len(change_payments) == 1
    assert len(payments) == 2  # the checkout's and the change's
    again = await api.call("PATCH", path, 200, json=change, headers=keyed("more-seats"))
    assert again.headers["idempotent-replayed"] == "true"
    assert again.content == done.content


async def test_a_declined_payment_is_replayed_as_it_was(api: Api, runtime: Runtime) -> None:
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 2, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"
    declined = {"payment_method": "pm_card_declined"}
    first = await api.call("POST", path, json=declined, headers=keyed("pay-1"))
    problem(first, 402, "payment_failed")
    counts = await row_counts(runtime)
    again = await api.call("POST", path, json=declined, headers=keyed("pay-1"))
    assert (again.status_code, again.content) == (402, first.content)
    assert again.headers["content-type"] == "application/problem+json"
    assert await row_counts(runtime) == counts  # no second attempt was made
    # Another card is another request: a new key.
    paid = await api.call(
        "POST", path, 200, json={"payment_method": "pm_card_ok"}, headers=keyed("pay-2")
    )
    assert paid.json()["status"] == "completed"


async def test_keys_are_scoped_to_the_credential_and_the_path(api: Api, runtime: Runtime) -> None:
    _, other_key = await api_keys.create_api_key(runtime, name="other backend")
    await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("shared"))
    await api.call(
        "POST", "/v1/products", 201, json=PRODUCT, headers=keyed("shared"), token=other_key
    )
    company = {"name": "Acme", "billing_manager": {"email": "boss@acme.test"}}
    await api.call("POST", "/v1/companies", 201, json=company, headers=keyed("shared"))
    assert len((await api.get("/v1/products"))["data"]) == 2


async def test_keys_are_kept_a_day_then_forgotten(
    api: Api, runtime: Runtime, clock: FixedClock
) -> None:
    await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("daily"))
    clock.advance(timedelta(hours=23))
    replay = await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("daily"))
    assert replay.headers["idempotent-replayed"] == "true"
    clock.advance(timedelta(hours=1, seconds=1))
    fresh = await api.call("POST", "/v1/products", 201, json=PRODUCT, headers=keyed("daily"))
    assert "idempotent-replayed" not in fresh.headers
    assert len((await api.get("/v1/products"))["data"]) == 2
    clock.advance(timedelta(hours=25))
    assert await idempotency.prune(runtime) == 1


async def _licensed_subscription(api: Api) -> tuple[str, dict[str, Any]]:
    """A subscription to a product granting a license key: (subscription id, company)."""
    licence = await api.post(
        "/v1/benefits",
        {"type": "license_key", "description": "Licence", "properties": {"prefix": "TEAM"}},
    )
    product = await api.product({"benefit_ids": [licence["id"]]})
    company = await api.company()
    done = await api.buy(product["prices"][0]["id"], company["id"])
    return str(done["subscription_id"]), company


async def _stored_rows(runtime: Runtime) -> list[Any]:
    async with runtime.engine.connect() as connection:
        return list((await connection.execute(select(t.idempotency_keys))).all())


def _secrets_at_rest(rows: list[Any], secrets: list[str]) -> list[str]:
    """The secrets found anywhere in the idempotency table's rows."""
    text = " ".join(
        f"{row.credential} {row.path} {row.key} {bytes(row.response_body or b'').decode()}"
        f" {row.recovery}"
        for row in rows
    )
    return [secret for secret in secrets if secret in text]


async def test_public_claims_take_keys_scoped_to_the_token(api: Api, runtime: Runtime) -> None:
    subscription_id, _ = await _licensed_subscription(api)
    first_seat = await api.assign({"subscription_id": subscription_id}, "ann@acme.test")
    other_seat = await api.assign({"subscription_id": subscription_id}, "bob@acme.test")
    path = f"/v1/claims/{first_seat['invitation']['token']}"
    first = await api.client.post(path, headers=keyed("claim-1"))
    assert first.status_code == 200, first.text
    claimed = first.json()
    assert claimed["session_token"].startswith("cs_")
    assert claimed["grants"][0]["properties"]["license_key"].startswith("TEAM")
    # Another token under the same key is another request: it claims its own seat.
    other = await api.client.post(
        f"/v1/claims/{other_seat['invitation']['token']}", headers=keyed("claim-1")
    )
    assert other.status_code == 200, other.text
    assert other.json()["seat"]["email"] == "bob@acme.test"
    assert "idempotent-replayed" not in other.headers
    # The same token and key: the claim happened (not invalid_token), but no secret comes back.
    again = await api.client.post(path, headers=keyed("claim-1"))
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["idempotent-withheld"] == "session_token, grants"
    replayed = again.json()
    assert replayed["seat"] == claimed["seat"]
    assert replayed["session_token"] is None
    assert replayed["grants"] == []
    problem(await api.client.post(path), 400, "invalid_token")
    # The claimer's session works; nothing on record holds it or the invitation tokens.
    await api.get(
        f"/v1/members/{claimed['seat']['member_id']}/entitlements", token=claimed["session_token"]
    )
    secrets = [
        first_seat["invitation"]["token"],
        other_seat["invitation"]["token"],
        claimed["session_token"],
        other.json()["session_token"],
        claimed["grants"][0]["properties"]["license_key"],
    ]
    assert _secrets_at_rest(await _stored_rows(runtime), secrets) == []


async def test_no_token_rests_in_stored_answers(api: Api, runtime: Runtime) -> None:
    subscription_id, company = await api.subscription()
    body = {"subscription_id": subscription_id, "email": "ann@acme.test", "send_email": False}
    assigned = await api.call("POST", "/v1/seats", 201, json=body, headers=keyed("assign"))
    seat = assigned.json()
    resent = await api.call(
        "POST", f"/v1/seats/{seat['id']}/resend", 200, json={}, headers=keyed("resend")
    )
    manager_id = (await api.get(f"/v1/companies/{company['id']}/members"))["data"][0]["id"]
    session = await api.call(
        "POST", "/v1/customer-sessions", 201, json={"member_id": manager_id}, headers=keyed("cs")
    )
    # Sent with a credential, a claim is still keyed by its token's hash, never its path.
    claim = await api.call(
        "POST", f"/v1/claims/{resent.json()['invitation']['token']}", headers=keyed("claim")
    )
    assert claim.status_code == 200, claim.text
    secrets = [
        seat["invitation"]["token"],
        resent.json()["invitation"]["token"],
        session.json()["token"],
        claim.json()["session_token"],
    ]
    rows = await _stored_rows(runtime)
    assert len(rows) == 4
    assert _secrets_at_rest(rows, secrets) == []
    # Replays answer what was done, without the secrets, and say what they left out.
    again = await api.call("POST", "/v1/seats", 201, json=body, headers=keyed("assign"))
    assert again.headers["idempotent-withheld"] == "invitation"
    assert again.json() == {**seat, "invitation": None}
    again = await api.call(
        "POST", f"/v1/seats/{seat['id']}/resend", 200, json={}, headers=keyed("resend")
    )
    assert again.json() == {**resent.json(), "invitation": None}
    again = await api.call(
        "POST", "/v1/customer-sessions", 201, json={"member_id": manager_id}, headers=keyed("cs")
    )
    assert again.headers["idempotent-withheld"] == "token, portal_url"
    assert again.json() == {**session.json(), "token": None, "portal_url": None}
    # The seat's replayed answer still leads on: a resend gives a new invitation.
    fresh = await api.post(f"/v1/seats/{seat['id']}/resend", {}, 409)
    assert fresh["code"] == "seat_not_pending"  # claimed meanwhile


async def test_a_malformed_key_is_refused(api: Api, runtime: Runtime) -> None:
    counts = await row_counts(runtime)
    for bad in (b"x" * 256, b"with space", "é".encode()):
        response = await api.call(
            "POST",
            "/v1/products",
            json=PRODUCT,
            headers={"Idempotency-Key": bad},
        )
        problem(response, 422, "validation_error", "Idempotency-Key")
    assert await row_counts(runtime) == counts


async def test_without_a_credential_the_key_is_ignored_and_the_answer_is_401(api: Api) -> None:
    response = await api.client.post("/v1/products", json=PRODUCT, headers=keyed("anon"))
    problem(response, 401, "unauthenticated")
