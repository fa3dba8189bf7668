"""``GET /v1/emails`` and ``GET /v1/emails/{id}`` (SPEC §10): merchant keys only, newest first,
filtered by recipient or event, the invitation link shown only while the seat is pending."""

from __future__ import annotations

import dataclasses

import pytest

from seatledger.adapters.mail.smtp import SmtpMailer
from seatledger.config import smtp_server
from seatledger.services.emails import send_due
from tests.e2e.api import Api, problem
from tests.integration.outbox_drain import fan_out_undelivered
from tests.integration.smtp_server import Inbox, smtp

__all__ = ["smtp"]  # the fixture, imported to be used here

pytestmark = pytest.mark.db

EMAIL_KEYS = {
    "id",
    "event_id",
    "to",
    "subject",
    "text",
    "html",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "sent_at",
}
HIDDEN = "[invitation link]"


async def invited(api: Api) -> tuple[dict[str, str], dict[str, str]]:
    """Acme's subscription with a seat assigned to ann@acme.test; its events fanned out."""
    sub_id, company = await api.subscription()
    seat = await api.assign({"subscription_id": sub_id}, "Ann@Acme.test")
    await fan_out_undelivered(api.runtime)
    return seat, company


async def test_the_merchant_lists_emails_newest_first_with_a_pending_seats_link(api: Api) -> None:
    seat, _ = await invited(api)
    page = await api.get("/v1/emails")
    assert page["has_more"] is False
    assert page["next_cursor"] is None
    invitation, receipt = page["data"]
    assert set(invitation) == EMAIL_KEYS
    assert (invitation["to"], invitation["status"], invitation["attempts"]) == (
        "ann@acme.test",
        "held",
        0,
    )
    assert invitation["sent_at"] is None
    assert invitation["last_error"] is None
    url = seat["invitation"]["url"]
    assert url in invitation["text"]
    assert url in invitation["html"]
    assert HIDDEN not in invitation["text"]
    assert receipt["to"] == "boss@acme.test"
    assert "Receipt" in receipt["subject"]

    assert await api.get(f"/v1/emails/{invitation['id']}") == invitation
    first = await api.get("/v1/emails", params={"limit": 1})
    assert first["has_more"] is True
    assert first["data"] == [invitation]
    rest = await api.get("/v1/emails", params={"limit": 1, "cursor": first["next_cursor"]})
    assert rest["data"] == [receipt]


async def test_filters_by_recipient_and_event(api: Api) -> None:
    await invited(api)
    [invitation] = (await api.get("/v1/emails", params={"to": "ANN@acme.test"}))["data"]
    found = await api.get("/v1/emails", params={"event_id": invitation["event_id"]})
    assert found["data"] == [invitation]
    assert (await api.get("/v1/emails", params={"to": "nobody@acme.test"}))["data"] == []
    assert (await api.get("/v1/emails", params={"event_id": "evt_nothing"}))["data"] == []
    problem(
        await api.call("GET", "/v1/emails", params={"to": "not-an-address"}),
        422,
        "validation_error",
        "to",
    )
    problem(await api.call("GET", "/v1/emails", params={"limit": 0}), 422, "validation_error")
    problem(await api.call("GET", "/v1/emails/eml_nothing"), 404, "not_found")


async def test_the_link_is_hidden_once_the_seat_is_claimed(api: Api) -> None:
    seat, _ = await invited(api)
    token = seat["invitation"]["token"]
    await api.post(f"/v1/claims/{token}", {}, 200)
    [invitation] = (await api.get("/v1/emails", params={"to": "ann@acme.test"}))["data"]
    assert token not in invitation["text"] + invitation["html"]
    assert HIDDEN in invitation["text"]
    assert HIDDEN in invitation["html"]


async def test_the_link_is_hidden_once_the_email_is_sent(api: Api, smtp: Inbox) -> None:
    api.runtime = dataclasses.replace(
        api.runtime, mailer=SmtpMailer(smtp_server(smtp.url), "bill@shop.test")
    )
    seat, _ = await invited(api)
    assert await send_due(api.runtime) == 2
    [invitation] = (await api.get("/v1/emails", params={"to": "ann@acme.test"}))["data"]
    assert invitation["status"] == "sent"
    assert invitation["attempts"] == 1
    assert invitation["sent_at"] is not None
    assert seat["invitation"]["token"] not in invitation["text"] + invitation["html"]
    assert HIDDEN in invitation["text"]


async def test_customer_sessions_may_not_read_emails(api: Api) -> None:
    _, company = await invited(api)
    token = await api.session(company["billing_manager_member_id"])
    problem(await api.call("GET", "/v1/emails", token=token), 403, "forbidden")
    [email, *_] = (await api.get("/v1/emails"))["data"]
    problem(await api.call("GET", f"/v1/emails/{email['id']}", token=token), 403, "forbidden")
