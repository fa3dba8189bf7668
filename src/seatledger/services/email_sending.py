"""Sending the emails that are due (``send_due`` of the emails channel).

Each round leases up to ``BATCH`` due ``queued`` emails in one short transaction (``SKIP
LOCKED`` on PostgreSQL, so loops on one database share the work; the lease is wall-clock time in
``lease_expires_at``, since the sandbox clock may stand still), sends them with no transaction
open, and records each outcome in a transaction of its own:

* sent → ``sent`` with ``sent_at``;
* temporary (4xx, connection error, timeout) → tried again after ``BACKOFF`` (by the runtime
  clock, so moving the sandbox clock makes retries fall due) until ``RETRY_FOR`` after the
  email was created, then ``failed``;
* permanent (5xx) → ``failed`` at once.

Every attempt counts in ``attempts`` and leaves its error in ``last_error``. A sent or failed
email forgets its invitation link (``seatledger.services.emails``).

The lease fits the work: one send may take ``SEND_LIMIT`` at most (then it is a temporary
failure), and a send starts only while ``SEND_LIMIT`` + ``RECORD_MARGIN`` of the lease remain;
an email not started by then is handed back for the next round. A loop that dies mid-send
leaves its lease to expire, ``LEASE`` at most: the email is sent again (at least once; the
event id header lets receivers drop the duplicate).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import escape

from seatledger.domain.clock import SystemClock
from seatledger.domain.emails import StoredEmail
from seatledger.domain.mail import Mailer, OutgoingEmail, SendOutcome
from seatledger.observability import metrics
from seatledger.services.email_content import LINK_PLACEHOLDER
from seatledger.services.runtime import Runtime

BATCH = 20
LEASE = timedelta(minutes=2)  # wall clock; a killed loop's emails go out again after it
SEND_LIMIT = timedelta(seconds=45)  # one whole SMTP conversation
RECORD_MARGIN = timedelta(seconds=15)  # of the lease left, after a send's limit, to record it
RETRY_FOR = timedelta(days=3)
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)  # after the n-th failed attempt; the last one repeats


def with_link(text: str, html: str, link: str | None, *, hidden: str) -> tuple[str, str]:
    """``text`` and ``html`` with the placeholder replaced by ``link``, or by ``hidden``."""
    shown = hidden if link is None else link
    return text.replace(LINK_PLACEHOLDER, shown), html.replace(LINK_PLACEHOLDER, str(escape(shown)))


@dataclass(frozen=True, slots=True)
class _Leased:
    id: str
    attempts: int
    created_at: datetime
    email: OutgoingEmail
    lease: datetime


def _leased(stored: StoredEmail, lease: datetime) -> _Leased:
    row = stored.email
    text, html = with_link(row.text, row.html, stored.link, hidden=LINK_PLACEHOLDER)
    email = OutgoingEmail(row.event_id, row.to, row.subject, text, html)
    return _Leased(row.id, row.attempts, row.created_at, email, lease)


async def _lease(rt: Runtime) -> list[_Leased]:
    now, wall = rt.clock.now(), SystemClock().now()
    lease = wall + LEASE
    async with rt.transaction() as uow:
        stored = await uow.emails.lease_due(now, wall, BATCH, lease)
        await uow.commit()
    return [_leased(one, lease) for one in stored]


def _outcome_values(leased: _Leased, outcome: SendOutcome, now: datetime) -> dict[str, object]:
    values: dict[str, object] = {"attempts": leased.attempts + 1, "lease_expires_at": None}
    if outcome.outcome == "sent":
        return values | {"status": "sent", "sent_at": now, "link": None, "next_attempt_at": None}
    values["last_error"] = (outcome.detail or outcome.outcome)[:500]
    deadline = leased.created_at + RETRY_FOR
    if outcome.outcome == "permanent" or now >= deadline:
        return values | {"status": "failed", "link": None, "next_attempt_at": None}
    delay = BACKOFF[min(leased.attempts, len(BACKOFF) - 1)]
    return values | {"next_attempt_at": min(now + delay, deadline)}


async def _record(rt: Runtime, leased: _Leased, outcome: SendOutcome) -> None:
    metrics.email_sent(outcome.outcome)
    values = _outcome_values(leased, outcome, rt.clock.now())
    async with rt.transaction() as uow:
        await uow.emails.record(leased.id, values)
        await uow.commit()


async def _hand_back(rt: Runtime, leased: _Leased) -> None:
    async with rt.transaction() as uow:
        await uow.emails.hand_back(leased.id, leased.lease)
        await uow.commit()


async def _send(mailer: Mailer, email: OutgoingEmail) -> SendOutcome:
    try:
        async with asyncio.timeout(SEND_LIMIT.total_seconds()):
            return await mailer.send(email)
    except TimeoutError:
        return SendOutcome("temporary", f"no answer within {SEND_LIMIT.total_seconds():g} s")


async def send_due(rt: Runtime) -> int:
    """Send the emails that are due; answers how many were attempted. Without a mailer
    (no ``SEATLEDGER_SMTP_URL``) nothing is sent: emails are then written ``held``."""
    if rt.mailer is None:
        return 0
    leased = await _lease(rt)
    for one in leased:
        if SystemClock().now() >= one.lease - SEND_LIMIT - RECORD_MARGIN:
            await _hand_back(rt, one)  # too near the lease's end to start: the next round
            continue
        await _record(rt, one, await _send(rt.mailer, one.email))
    return len(leased)


__all__ = ["BACKOFF", "RETRY_FOR", "send_due", "with_link"]
