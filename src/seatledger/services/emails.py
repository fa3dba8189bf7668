"""The emails channel (SPEC §10): outbox events become emails, sent over SMTP, listed by the
API.

Lifecycle of an email row: the delivery loop's fan-out writes it ``queued`` (due at once), or
``held`` when the instance has no mail server (kept, never sent, visible); ``send_due``
(``seatledger.services.email_sending``) moves a queued one to ``sent``, or to ``failed`` on a
permanent refusal or after 3 days of temporary ones.

The invitation link at rest. Invitation tokens are stored only as hashes (SPEC §5), yet an
invitation email must carry its link until it leaves. So the link is kept no longer than that:

* the fan-out removes ``url`` from the ``invitation.email`` outbox record it turns into an
  email, in the same transaction;
* the email's text and HTML are stored with a placeholder (``LINK_PLACEHOLDER``) where the link
  goes, and the link itself in ``emails.link``, which is cleared once the email is sent or
  failed; a held email keeps it, being the only copy the merchant can still hand on;
* ``GET /v1/emails`` shows the link in place of the placeholder only to the merchant (an API
  key) and only while the email still holds it and its seat is still ``pending``; anyone else,
  and any email whose seat was claimed or revoked, reads the placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from seatledger.adapters.db.paging import paginating
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.emails import Email, StoredEmail, normalize_email
from seatledger.domain.errors import NotFound
from seatledger.domain.events import EventType, OutboxEvent
from seatledger.domain.ids import new_id
from seatledger.services import email_content
from seatledger.services.channels import Channel
from seatledger.services.email_content import LINK_PLACEHOLDER, Draft
from seatledger.services.email_sending import send_due, with_link
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime

INVITATION = "invitation.email"  # the one event whose emails are drafted a batch at a time


async def _draft(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> Draft | None:
    """The email of an event other than an invitation, if any."""
    if event.type in email_content.BILLING_KINDS:
        return await email_content.billing(rt, uow, event)
    if event.type == EventType.SEAT_USAGE_THRESHOLD_REACHED:
        return await email_content.seat_usage(rt, uow, event)
    return None


def _scrubbed(event: OutboxEvent) -> dict[str, object] | None:
    """An ``invitation.email`` record's payload without its link, or None when it has none."""
    if "url" not in event.payload:
        return None
    return {k: v for k, v in event.payload.items() if k != "url"}


def _row(rt: Runtime, event: OutboxEvent, draft: Draft, now: datetime) -> dict[str, object]:
    return {
        "event_id": event.id,
        "kind": draft.kind,
        "company_id": draft.company_id,
        "seat_id": draft.seat_id,
        "to": draft.to,
        "subject": draft.content.subject,
        "text": draft.content.text,
        "html": draft.content.html,
        "link": draft.link,
        "status": "queued" if rt.mailer is not None else "held",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


async def fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    """Write the email ``event`` calls for, if any, in the delivery loop's transaction."""
    await fan_out_many(uow, rt, [event])


async def fan_out_many(uow: UnitOfWork, rt: Runtime, events: Sequence[OutboxEvent]) -> None:
    """``fan_out`` for a batch, in a few statements whatever its size: the invitations' seats
    read in one query, their links scrubbed from the outbox in one batch, every email written
    in one more. Other emails (receipts, alerts: rare) read their facts event by event. Events
    that call for no email cost no statement."""
    invited = [
        seat_id
        for event in events
        if event.type == INVITATION and (seat_id := email_content.invited_seat(event)) is not None
    ]
    names = await uow.email_facts.seats_names(invited) if invited else {}
    now = rt.clock.now()
    rows: list[dict[str, object]] = []
    scrubbed: list[tuple[str, dict[str, object]]] = []
    for event in events:
        if event.type == INVITATION:
            seat_id = email_content.invited_seat(event)
            draft = (
                None
                if seat_id is None
                else email_content.invitation_of(rt, event, names.get(seat_id))
            )
            if (payload := _scrubbed(event)) is not None:
                scrubbed.append((event.id, payload))
        else:
            draft = await _draft(uow, rt, event)
        if draft is not None:
            rows.append(_row(rt, event, draft, now))
    # Lists run by id (its milliseconds first): ids made within one millisecond are sorted, so
    # that the batch's emails list in the order of their events, as made one by one.
    for row, email_id in zip(rows, sorted(new_id("eml") for _ in rows), strict=True):
        row["id"] = email_id
    await uow.emails.scrub_outboxes(scrubbed)
    await uow.emails.add_many(rows)


CHANNEL = Channel("emails", fan_out, send_due, fan_out_many)


# -- reading --------------------------------------------------------------------------------------


def _shown(stored: StoredEmail, *, merchant: bool) -> Email:
    """The email as its reader sees it: the link only to the merchant, and only while the
    email holds it and its seat is still pending (module docstring)."""
    reveal = merchant and stored.link is not None and stored.seat_status == "pending"
    email = stored.email
    text, html = with_link(
        email.text, email.html, stored.link if reveal else None, hidden=LINK_PLACEHOLDER
    )
    return replace(email, text=text, html=html)


async def list_emails(
    rt: Runtime,
    *,
    to: str | None = None,
    event_id: str | None = None,
    limit: int | None = None,
    cursor: str | None = None,
    merchant: bool = False,
) -> Page[Email]:
    """Emails newest first, to one address (case-insensitive) or for one event when asked."""
    size = check_limit(limit)
    address = None if to is None else normalize_email(to, field="to")
    async with rt.reading() as uow:
        stored = await uow.emails.page(
            paginating(cursor, size, newest_first=True),
            to=address,
            event_id=event_id,
        )
    return page_of(
        [_shown(one, merchant=merchant) for one in stored], [one.email.id for one in stored], size
    )


async def get_email(rt: Runtime, email_id: str, *, merchant: bool = False) -> Email:
    async with rt.reading() as uow:
        stored = await uow.emails.get(email_id)
    if stored is None:
        raise NotFound("email")
    return _shown(stored, merchant=merchant)


__all__ = ["CHANNEL", "Email", "fan_out", "fan_out_many", "get_email", "list_emails", "send_due"]
