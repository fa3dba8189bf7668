"""The emails channel: outbox events rendered into emails, sent to a real SMTP server
(aiosmtpd in the test process), retried, failed or held (SPEC §10), with the invitation link
kept at rest no longer than needed (SPEC §5)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, update

from seatledger.adapters.db import tables as t
from seatledger.adapters.mail.smtp import SmtpMailer
from seatledger.config import smtp_server
from seatledger.domain.clock import FixedClock
from seatledger.services import cancellation, checkouts, delivery, emails, renewals, seats
from seatledger.services.emails import send_due
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.outbox_drain import fan_out_undelivered
from tests.integration.shop import utc
from tests.integration.smtp_server import Inbox, free_port, smtp

__all__ = ["smtp"]  # the fixture, imported to be used here

pytestmark = pytest.mark.db


def mailing(runtime: Runtime, url: str) -> Runtime:
    return dataclasses.replace(
        runtime, mailer=SmtpMailer(smtp_server(url), "Shop <bill@shop.test>")
    )


@pytest.fixture
def mailer(runtime: Runtime, smtp: Inbox) -> Runtime:
    return mailing(runtime, smtp.url)


async def emails_to(rt: Runtime, to: str) -> list[Any]:
    return sorted(await shop.rows(rt.engine, t.emails, t.emails.c.to == to), key=lambda r: r.id)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


async def pending_seat(rt: Runtime, clock: FixedClock, **kwargs: Any) -> Any:
    """A seat of Acme's "Team plan" subscription, assigned to ann@acme.test on Jan 1, 2027,
    the purchase's own emails left out."""
    (price_id,) = await shop.product(rt)
    company_id = await shop.company(rt)
    sub_id = await shop.subscribe(rt, price_id, company_id, 3, at=utc(2027, 1, 1), clock=clock)
    await fan_out_undelivered(rt)
    async with rt.engine.begin() as connection:
        await connection.execute(delete(t.emails))  # the receipt: not what these tests are about
    return await seats.assign_seat(rt, subscription_id=sub_id, email="ann@acme.test", **kwargs)


async def test_an_invitation_reaches_the_mail_server_with_both_parts(
    mailer: Runtime, clock: FixedClock, smtp: Inbox
) -> None:
    seat = await pending_seat(mailer, clock)
    assert seat.invitation is not None
    await fan_out_undelivered(mailer)
    assert await send_due(mailer) == 1

    [message] = smtp.messages
    [outbox] = await shop.rows(mailer.engine, t.outbox, t.outbox.c.type == "invitation.email")
    assert message["To"] == "ann@acme.test"
    assert message["Seatledger-Event-Id"] == outbox.event_id
    assert message["Subject"] == "Acme invites you to Team plan"
    text, html = parts(message)
    for part in (text, html):
        assert "Acme" in part
        assert "Team plan" in part
        assert seat.invitation.url in part
        assert "2027-01-08T00:00:00Z" in part
    assert f'href="{seat.invitation.url}"' in html

    # The link is kept no longer than needed: gone from the outbox record and, once sent, from
    # the email; the stored text never held it.
    assert "url" not in outbox.payload
    [row] = await emails_to(mailer, "ann@acme.test")
    assert (row.status, row.attempts, row.link, row.sent_at) == ("sent", 1, None, utc(2027, 1, 1))
    assert seat.invitation.token not in row.text + row.html
    assert await send_due(mailer) == 0


async def test_no_email_without_send_email_or_with_immediate_claim(
    mailer: Runtime, clock: FixedClock
) -> None:
    seat = await pending_seat(mailer, clock, send_email=False)
    sub_id = seat.subscription_id
    await seats.assign_seat(
        mailer, subscription_id=sub_id, email="bo@acme.test", immediate_claim=True
    )
    await fan_out_undelivered(mailer)
    assert await emails_to(mailer, "ann@acme.test") == []
    assert await emails_to(mailer, "bo@acme.test") == []


async def test_a_temporary_refusal_is_retried_when_the_clock_moves(
    mailer: Runtime, clock: FixedClock, smtp: Inbox
) -> None:
    smtp.answers = ["451 4.3.0 try again later"]
    await pending_seat(mailer, clock)
    await fan_out_undelivered(mailer)
    assert await send_due(mailer) == 1
    [row] = await emails_to(mailer, "ann@acme.test")
    assert (row.status, row.attempts, row.next_attempt_at) == ("queued", 1, utc(2027, 1, 1, 0, 1))
    assert row.last_error.startswith("451")
    assert row.link is not None
    assert smtp.messages == []

    assert await send_due(mailer) == 0  # not due yet
    clock.advance(timedelta(minutes=1))
    assert await send_due(mailer) == 1
    [row] = await emails_to(mailer, "ann@acme.test")
    assert (row.status, row.attempts, row.link) == ("sent", 2, None)
    assert len(smtp.messages) == 1


async def test_a_permanent_refusal_fails_at_once(
    mailer: Runtime, clock: FixedClock, smtp: Inbox
) -> None:
    smtp.answers = ["554 5.7.1 not accepted"]
    await pending_seat(mailer, clock)
    await fan_out_undelivered(mailer)
    assert await send_due(mailer) == 1
    [row] = await emails_to(mailer, "ann@acme.test")
    assert (row.status, row.attempts, row.link) == ("failed", 1, None)
    assert row.last_error.startswith("554")
    clock.advance(timedelta(days=1))
    assert await send_due(mailer) == 0
    assert smtp.messages == []


async def test_an_unreachable_server_is_retried_for_three_days_then_failed(
    runtime: Runtime, clock: FixedClock
) -> None:
    nobody = mailing(runtime, f"smtp://127.0.0.1:{free_port()}")
    await pending_seat(nobody, clock)
    await fan_out_undelivered(nobody)
    assert await send_due(nobody) == 1
    [row] = await emails_to(nobody, "ann@acme.test")
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.last_error
    clock.advance(timedelta(days=3))
    assert await send_due(nobody) == 1
    [row] = await emails_to(nobody, "ann@acme.test")
    assert (row.status, row.attempts, row.link) == ("failed", 2, None)


async def test_without_a_mail_server_emails_are_held_with_their_link(
    runtime: Runtime, clock: FixedClock
) -> None:
    assert runtime.mailer is None
    seat = await pending_seat(runtime, clock)
    await fan_out_undelivered(runtime)
    [row] = await emails_to(runtime, "ann@acme.test")
    assert (row.status, row.link) == ("held", seat.invitation.url)
    assert await send_due(runtime) == 0
    clock.advance(timedelta(days=4))
    assert await send_due(runtime) == 0
    [row] = await emails_to(runtime, "ann@acme.test")
    assert (row.status, row.attempts) == ("held", 0)


async def test_a_merchants_templates_replace_the_built_in_ones(
    mailer: Runtime, clock: FixedClock, smtp: Inbox, tmp_path: Path
) -> None:
    (tmp_path / "invitation.subject.txt").write_text("Welcome aboard, {{ to }}\n")
    (tmp_path / "invitation.txt").write_text("{{ product }} at {{ company }}: {{ url }}\n")
    settings = mailer.settings.model_copy(update={"email_templates": tmp_path})
    custom = dataclasses.replace(mailer, settings=settings)
    seat = await pending_seat(custom, clock)
    await fan_out_undelivered(custom)
    await send_due(custom)
    [message] = smtp.messages
    assert message["Subject"] == "Welcome aboard, ann@acme.test"
    text, html = parts(message)
    assert text.rstrip() == f"Team plan at Acme: {seat.invitation.url}"
    assert "Claim your seat" in html  # no invitation.html given: the built-in one


async def test_an_unusable_template_falls_back_to_the_built_in_one(
    runtime: Runtime, clock: FixedClock, tmp_path: Path
) -> None:
    (tmp_path / "invitation.txt").write_text("{% if %}broken\n")
    settings = runtime.settings.model_copy(update={"email_templates": tmp_path})
    custom = dataclasses.replace(runtime, settings=settings)
    await pending_seat(custom, clock)
    await fan_out_undelivered(custom)
    [row] = await emails_to(custom, "ann@acme.test")
    assert "has given you a seat of Team plan" in row.text


async def test_the_billing_manager_hears_of_receipts_failed_payments_and_cancellation(
    mailer: Runtime, clock: FixedClock, smtp: Inbox
) -> None:
    (price_id,) = await shop.product(mailer)
    company_id = await shop.company(mailer)
    sub_id = await shop.subscribe(
        mailer,
        price_id,
        company_id,
        3,
        at=utc(2027, 1, 1),
        clock=clock,
        payment_method="pm_card_fail_after_first",
    )
    clock.set(utc(2027, 2, 1))
    assert await renewals.renew_due(mailer) == [sub_id]
    await fan_out_undelivered(mailer)
    await cancellation.cancel_subscription(mailer, sub_id, at_period_end=False)
    await fan_out_undelivered(mailer)
    assert await send_due(mailer) == 3

    receipt, failed, canceled = smtp.messages
    assert {m["To"] for m in smtp.messages} == {"boss@acme.test"}
    text, html = parts(receipt)
    assert "USD 30.00" in receipt["Subject"]
    assert "INV-000001" in text
    assert "Team plan" in html
    text, html = parts(failed)
    assert "USD 30.00" in failed["Subject"]
    for part in (text, html):
        assert f"{mailer.settings.public_url}/portal" in part
        assert "2027-02-02T00:00:00Z" in part  # the next try
    text, _ = parts(canceled)
    assert "Team plan" in canceled["Subject"]
    assert "2027-02-01T00:00:00Z" in text


async def test_a_purchase_without_a_company_mails_its_owner(
    mailer: Runtime, clock: FixedClock, smtp: Inbox
) -> None:
    (price_id,) = await shop.product(mailer)
    checkout = await checkouts.create_checkout(
        mailer, price_id=price_id, seats=2, customer_email="owner@buyer.test"
    )
    await checkouts.confirm_checkout(mailer, checkout.id, payment_method="pm_card_ok")
    await fan_out_undelivered(mailer)
    await send_due(mailer)
    [receipt] = smtp.messages
    assert receipt["To"] == "owner@buyer.test"
    assert "USD 20.00" in receipt["Subject"]


async def test_an_event_fanned_out_again_writes_no_second_email(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    await shop.subscribe(runtime, price_id, company_id, 3, at=utc(2027, 1, 1), clock=clock)
    assert await fan_out_undelivered(runtime) > 0
    [receipt] = await emails_to(runtime, "boss@acme.test")
    async with runtime.engine.begin() as connection:  # taken again, however it comes about
        await connection.execute(update(t.outbox).values(delivered_at=None))
    await fan_out_undelivered(runtime)
    assert await emails_to(runtime, "boss@acme.test") == [receipt]


async def _fan_out_counting(rt: Runtime) -> list[str]:
    """The statements one delivery batch runs (an executemany counts once)."""
    executed: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        executed.append(statement)

    event.listen(rt.engine.sync_engine, "before_cursor_execute", count)
    try:
        assert await delivery.dispatch(rt, (emails.CHANNEL,)) > 0
    finally:
        event.remove(rt.engine.sync_engine, "before_cursor_execute", count)
    return executed


async def test_a_batch_of_invitations_costs_the_statements_of_one(
    runtime: Runtime, clock: FixedClock
) -> None:
    (price_id,) = await shop.product(runtime)
    company_id = await shop.company(runtime)
    sub_id = await shop.subscribe(
        runtime, price_id, company_id, 10, at=utc(2027, 1, 1), clock=clock
    )
    await fan_out_undelivered(runtime)
    async with runtime.engine.begin() as connection:
        await connection.execute(delete(t.emails))  # the receipt
    invited = [f"user{i}@acme.test" for i in range(7)]
    assigned = [await seats.assign_seat(runtime, subscription_id=sub_id, email=invited[0])]
    one = await _fan_out_counting(runtime)
    for address in invited[1:]:
        assigned.append(await seats.assign_seat(runtime, subscription_id=sub_id, email=address))
    many = await _fan_out_counting(runtime)
    assert len(many) == len(one)
    written = sorted(await shop.rows(runtime.engine, t.emails), key=lambda row: row.id)
    # One email per invitation, listed in the order the seats were assigned, each with its link.
    assert [row.to for row in written] == invited
    assert [row.seat_id for row in written] == [seat.id for seat in assigned]
    links = [seat.invitation.url for seat in assigned if seat.invitation is not None]
    assert [row.link for row in written] == links
    # Every invitation record in the outbox lost its link in the batch that wrote its email.
    records = await shop.rows(runtime.engine, t.outbox, t.outbox.c.type == "invitation.email")
    assert len(records) == 7
    assert all("url" not in record.payload for record in records)
