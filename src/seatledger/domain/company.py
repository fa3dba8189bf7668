"""The buying organisation and its people. Exactly one member is the billing manager.

Lifecycle of a member: added (or created when they claim a seat) → removed. Removing a member
revokes every seat they hold; the billing manager cannot be removed before handing the role to
another current member. Emails are stored lowercased and compared case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.text import text_problem

Role = Literal["billing_manager", "member"]

MAX_NAME_LENGTH = 200
MAX_EXTERNAL_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    external_id: str | None
    billing_manager_member_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    company_id: str
    email: str  # lowercased
    name: str | None
    external_id: str | None
    role: Role
    created_at: datetime
    removed_at: datetime | None = None


def check_name(value: object, *, field: str = "name") -> str:
    """A required display name: a non-blank line of at most 200 characters (no control or
    formatting characters, ``seatledger.domain.text``), trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed.field(field, "must be a non-empty string")
    name = value.strip()
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed.field(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if (problem := text_problem(name)) is not None:
        raise ValidationFailed.field(field, problem)
    return name


def check_optional_name(value: object, *, field: str = "name") -> str | None:
    return None if value is None else check_name(value, field=field)


def check_external_id(value: object, *, field: str = "external_id") -> str | None:
    """The merchant's own id for a company or member: absent, or 1 to 200 characters on one
    line (no control or formatting characters)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_EXTERNAL_ID_LENGTH:
        raise ValidationFailed.field(
            field, f"must be a string of 1 to {MAX_EXTERNAL_ID_LENGTH} characters"
        )
    if (problem := text_problem(value)) is not None:
        raise ValidationFailed.field(field, problem)
    return value
