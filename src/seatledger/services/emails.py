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

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import NotFound
from seatledger.domain.events import OutboxEvent
from seatledger.domain.ids import new_id
from seatledger.services import email_content
from seatledger.services.channels import Channel
from seatledger.services.email_content import LINK_PLACEHOLDER, Draft
from seatledger.services.email_sending import send_due, with_link
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class Email:
    id: str
    event_id: str
    to: str
    subject: str
    text: str
    html: str
    status: str  # queued | sent | held | failed
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


async def _draft(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> Draft | None:
    if event.type == "invitation.email":
        return await email_content.invitation(rt, uow.connection, event)
    if event.type in email_content.BILLING_KINDS:
        return await email_content.billing(rt, uow.connection, event)
    return None


async def _scrub_outbox_link(uow: UnitOfWork, event: OutboxEvent) -> None:
    if "url" in event.payload:
        payload = {k: v for k, v in event.payload.items() if k != "url"}
        await uow.connection.execute(
            update(t.outbox).where(t.outbox.c.event_id == event.id).values(payload=payload)
        )


async def fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    """Write the email ``event`` calls for, if any, in the delivery loop's transaction."""
    draft = await _draft(uow, rt, event)
    if event.type == "invitation.email":
        await _scrub_outbox_link(uow, event)
    if draft is None:
        return
    now = rt.clock.now()
    values = {
        "id": new_id("eml"),
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
    dialect = postgresql if uow.dialect == "postgresql" else sqlite
    # An event taken twice, should a loop ever take it again, writes one email (the unique
    # index on event, kind and recipient).
    statement = dialect.insert(t.emails).values(values).on_conflict_do_nothing()
    await uow.connection.execute(statement)


CHANNEL = Channel("emails", fan_out, send_due)


# -- reading --------------------------------------------------------------------------------------

_COLUMNS = [*t.emails.c, t.seats.c.status.label("seat_status")]


def _email_from_row(row: Any, *, merchant: bool) -> Email:
    reveal = merchant and row.link is not None and row.seat_status == "pending"
    link = row.link if reveal else None
    text, html = with_link(row.text, row.html, link, hidden=LINK_PLACEHOLDER)
    return Email(
        id=row.id,
        event_id=row.event_id,
        to=row.to,
        subject=row.subject,
        text=text,
        html=html,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def _with_seat() -> Any:
    return select(*_COLUMNS).select_from(
        t.emails.outerjoin(t.seats, t.seats.c.id == t.emails.c.seat_id)
    )


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
    query = _with_seat()
    if to is not None:
        query = query.where(t.emails.c.to == normalize_email(to, field="to"))
    if event_id is not None:
        query = query.where(t.emails.c.event_id == event_id)
    async with rt.reading() as uow:
        page = paginate(query, t.emails.c.id, cursor, size, newest_first=True)
        rows = (await uow.connection.execute(page)).all()
    return page_of(
        [_email_from_row(row, merchant=merchant) for row in rows], [row.id for row in rows], size
    )


async def get_email(rt: Runtime, email_id: str, *, merchant: bool = False) -> Email:
    async with rt.reading() as uow:
        row = (await uow.connection.execute(_with_seat().where(t.emails.c.id == email_id))).first()
    if row is None:
        raise NotFound("email")
    return _email_from_row(row, merchant=merchant)


__all__ = ["CHANNEL", "Email", "fan_out", "get_email", "list_emails", "send_due"]
