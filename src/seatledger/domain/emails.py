"""Email addresses identify members, case-insensitively: stored and compared lowercased."""

from __future__ import annotations

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
