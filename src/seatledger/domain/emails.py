"""Email addresses identify members, case-insensitively: stored and compared lowercased."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from email_validator import EmailNotValidError, validate_email

from seatledger.domain.errors import ValidationFailed


def normalize_email(value: object, *, field: str = "email") -> str:
    """A valid address, lowercased; otherwise ``ValidationFailed`` naming ``field``."""
    if not isinstance(value, str) or len(value) > 254:
        raise ValidationFailed.field(field, "must be an email address")
    try:
        # Syntax only: deliverability is the mail server's business, and merchants' sandboxes
        # use reserved test domains (``@acme.test``) and single-label intranet hosts.
        checked = validate_email(
            value, check_deliverability=False, test_environment=True, globally_deliverable=False
        )
    except EmailNotValidError as error:
        raise ValidationFailed.field(field, f"is not a valid email address: {error}") from None
    return checked.normalized.lower()


EmailStatus = Literal["queued", "sent", "held", "failed"]


@dataclass(frozen=True, slots=True)
class Email:
    id: str
    event_id: str
    to: str
    subject: str
    text: str
    html: str
    status: EmailStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredEmail:
    """An email as stored: its text and HTML hold a placeholder where the invitation link goes,
    ``link`` holds the link until the email leaves (``seatledger.services.emails``), and
    ``seat_status`` is the status of the seat it invites to, when read with it."""

    email: Email
    link: str | None
    seat_status: str | None = None
