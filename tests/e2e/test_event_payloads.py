"""Event payloads (SPEC §10): an event's `data` is its object as the API returns it.

One flow through the HTTP API produces every catalogued type but
`subscription.seats_drift_detected` (it comes with a payment provider's reconciliation). After
each step, every new event of `GET /v1/events` must validate against the model `/openapi.json`
documents for its type, write every instant in the one format, carry no token, and, where the
API can `GET` its object, equal that answer: the last event of a step about an object is the
object as the API shows it right after the step (a seat without its invitation).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from seatledger.adapters.db import tables as t
from seatledger.api.event_catalogue import event_model
from seatledger.domain.events import EventType
from tests.e2e.api import ONE_TIME, Api

ONE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
LOOKS_LIKE_AN_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T")
MODELS: dict[str, type[BaseModel]] = {kind.value: event_model(kind) for kind in EventType}
NOT_EMITTED = {EventType.SUBSCRIPTION_SEATS_DRIFT_DETECTED.value}


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


class Recorder:
    """Follows `GET /v1/events` step by step and checks each new event (module docstring)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: set[str] = set()
        self.types: set[str] = set()
        self.tokens: set[str] = set()
        self.members: dict[str, dict[str, Any]] = {}  # last listed: a removed one is not

    async def _new_events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        cursor = None
        while True:
            query = "/v1/events?limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = await self.api.get(query)
            events += [event for event in page["data"] if event["id"] not in self.seen]
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
        self.seen |= {event["id"] for event in events}
        # In the order they were emitted: ids made within one millisecond are not ordered.
        async with self.api.runtime.reading() as uow:
            query = select(t.outbox.c.event_id).order_by(t.outbox.c.id)
            order = {event_id: i for i, event_id in enumerate(await uow.connection.scalars(query))}
        return sorted(events, key=lambda event: order[event["id"]])

    async def _members(self, company_id: str) -> None:
        listed = await self.api.get(f"/v1/companies/{company_id}/members?limit=100")
        self.members |= {member["id"]: member for member in listed["data"]}

    async def _answer(self, kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """The API's `GET` of the event's object now; None where there is none (grants, a seat
        alert's crossing)."""
        if "id" not in data:
            return None
        noun = kind.split(".")[0]
        paths = {
            "checkout": "/v1/checkouts/{}",
            "subscription": "/v1/subscriptions/{}",
            "order": "/v1/orders/{}",
            "invoice": "/v1/invoices/{}",
            "seat": "/v1/seats/{}",
            "company": "/v1/companies/{}",
        }
        if noun == "member":
            await self._members(data["company_id"])
            return self.members[data["id"]]
        if noun not in paths:
            return None
        answer: dict[str, Any] = await self.api.get(paths[noun].format(data["id"]))
        return answer

    async def step(self, *expected: str) -> list[dict[str, Any]]:
        """Check the events of the step just taken; each type of ``expected`` is among them."""
        events = await self._new_events()
        kinds = [event["type"] for event in events]
        assert set(expected) <= set(kinds), kinds
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for event in events:
            MODELS[event["type"]].model_validate(event)
            for text in _strings(event):
                if LOOKS_LIKE_AN_INSTANT.match(text):
                    assert ONE_FORMAT.fullmatch(text), (event["type"], text)
            dumped = json.dumps(event)
            assert "invitation" not in event["data"]
            assert not [token for token in self.tokens if token in dumped], event["type"]
            latest[(event["type"].split(".")[0], event["data"].get("id", event["id"]))] = event
        for (_, _), event in latest.items():
            answer = await self._answer(event["type"], event["data"])
            if answer is not None:
                assert event["data"] == answer, event["type"]
        self.types |= set(kinds)
        return events


async def test_every_event_carries_its_object_as_the_api_returns_it(api: Api) -> None:
    rec = Recorder(api)
    benefit = await api.post(
        "/v1/benefits", {"type": "custom", "description": "Welcome", "properties": {"note": "Hi"}}
    )
    product = await api.product({"benefit_ids": [benefit["id"]]})
    price_id = product["prices"][0]["id"]
    once = await api.product({"benefit_ids": [benefit["id"]]}, **ONE_TIME)
    await rec.step()  # catalogue records are internal

    company = await api.company()
    await rec.step("company.created", "member.added")
    await api.call("PATCH", f"/v1/companies/{company['id']}", 200, json={"name": "Acme Corp"})
    await rec.step("company.updated")
    bob = await api.post(f"/v1/companies/{company['id']}/members", {"email": "bob@acme.test"})
    await rec.step("member.added")
    # One seat of three crosses 30%: each assignment below is told, the revocation re-arms.
    alerts = {"product_id": product["id"], "thresholds": [30]}
    await api.call("PUT", f"/v1/companies/{company['id']}/seat-alerts", 200, json=alerts)
    await rec.step()

    done = await api.buy(price_id, company["id"], seats=3)
    await rec.step("checkout.completed", "subscription.created", "invoice.paid")
    subscription_id = done["subscription_id"]
    pool = {"subscription_id": subscription_id}
    bought = await api.buy(once["prices"][0]["id"], company["id"], seats=2)
    await rec.step("checkout.completed", "order.paid", "invoice.paid")
    assert bought["order_id"]

    ann = await api.assign(pool, "ann@acme.test")
    rec.tokens.add(ann["invitation"]["token"])
    await rec.step("seat.assigned", "seat.usage_threshold_reached")
    resent = await api.post(f"/v1/seats/{ann['id']}/resend", {}, 200)
    rec.tokens.add(resent["invitation"]["token"])
    await rec.step("seat.invitation_resent")
    claim = await api.post(f"/v1/claims/{resent['invitation']['token']}", None, 200)
    rec.tokens.add(claim["session_token"])
    await rec.step("seat.claimed", "member.added", "benefit_grant.created")
    await api.call("DELETE", f"/v1/seats/{ann['id']}", 200)
    await rec.step("seat.revoked", "benefit_grant.revoked")

    await api.post("/v1/seats", {**pool, "member_id": bob["id"], "immediate_claim": True})
    await rec.step(
        "seat.assigned", "seat.claimed", "benefit_grant.created", "seat.usage_threshold_reached"
    )
    await api.call("DELETE", f"/v1/companies/{company['id']}/members/{bob['id']}", 204)
    await rec.step("member.removed", "seat.revoked", "benefit_grant.revoked")

    await api.call("PATCH", f"/v1/subscriptions/{subscription_id}", 200, json={"seats": 5})
    await rec.step("subscription.updated")

    # A card that pays once: the renewal fails, the invoice is paid by hand afterwards.
    flaky = await api.buy(price_id, company["id"], seats=1, method="pm_card_fail_after_first")
    await rec.step("subscription.created")
    await api.post("/v1/sandbox/clock", {"now": "2027-02-01T00:00:00Z"}, 200)
    await rec.step(
        "subscription.renewed", "invoice.paid", "invoice.payment_failed", "subscription.past_due"
    )
    invoices = await api.get(f"/v1/invoices?subscription_id={flaky['subscription_id']}")
    [unpaid] = [invoice for invoice in invoices["data"] if invoice["status"] == "open"]
    await api.post(f"/v1/invoices/{unpaid['id']}/pay", {"payment_method": "pm_card_ok"}, 200)
    await rec.step("invoice.paid", "subscription.updated")

    # A 7-day trial bought on Feb 1 is announced 3 days before it ends, on Feb 5.
    trial = await api.price(trial_days=7)
    await api.buy(trial, company["id"], seats=1)
    await rec.step("checkout.completed", "subscription.created", "invoice.paid")
    await api.post("/v1/sandbox/clock", {"now": "2027-02-05T00:00:00Z"}, 200)
    await rec.step("subscription.trial_will_end")

    await api.post(f"/v1/subscriptions/{subscription_id}/cancel", {"at_period_end": False}, 200)
    await rec.step("subscription.canceled")

    assert rec.types == {kind.value for kind in EventType} - NOT_EMITTED
