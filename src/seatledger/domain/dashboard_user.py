"""Dashboard users: the merchant's people who sign in to ``/dashboard`` (SPEC §8, §11).

    created (``seatledger users create``) ──login──▶ session ──logout / idle / absolute──▶ ended

A password is stored as an argon2 hash only. A session lives ``SESSION_IDLE`` after its last
use and never beyond ``SESSION_ABSOLUTE`` after the login. Logins are throttled: after
``THROTTLE_FAILURES`` failures within ``THROTTLE_WINDOW`` for one email, or
``THROTTLE_CLIENT_FAILURES`` from one client address, the next attempt is refused, even with
the right password, until enough of those failures leave the window
(``Throttle.retry_after``). A refused attempt is not counted: waiting always ends.

A failed login says the same thing whether or not the email is known (``LoginFailed``), so
the form does not tell who has an account.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from seatledger.domain.errors import Unauthenticated, ValidationFailed
from seatledger.errors import SeatledgerError

SESSION_IDLE = timedelta(hours=12)
SESSION_ABSOLUTE = timedelta(days=7)
THROTTLE_FAILURES = 5  # for one email
# For one client address: more, since people behind one proxy or office address share it;
# still few enough that guessing across many emails from one address stops soon.
THROTTLE_CLIENT_FAILURES = 20
THROTTLE_WINDOW = timedelta(minutes=15)
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 hashes any length; a cap keeps a login request cheap


@dataclass(frozen=True, slots=True)
class DashboardUser:
    id: str
    email: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DashboardSession:
    id: str
    user: DashboardUser
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    def live_at(self, now: datetime) -> bool:
        """Neither idle for ``SESSION_IDLE`` nor past its absolute end."""
        return now < self.expires_at and now < self.last_seen_at + SESSION_IDLE


def session_end(created_at: datetime) -> datetime:
    return created_at + SESSION_ABSOLUTE


class LoginFailed(Unauthenticated):
    """Wrong email or password: one message for both (no ``code`` of its own)."""

    def __init__(self) -> None:
        SeatledgerError.__init__(self, "The email or password is not right.")


class LoginThrottled(Unauthenticated):
    """Too many failed logins lately: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        minutes = math.ceil(retry_after / 60)
        SeatledgerError.__init__(
            self,
            f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        )
        self.retry_after = retry_after


def check_password(password: object) -> str:
    """A new password: at least ``MIN_PASSWORD`` characters, not only spaces."""
    if not isinstance(password, str) or not password.strip():
        raise ValidationFailed.field("password", "must not be empty")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.field("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValidationFailed.field("password", f"must be at most {MAX_PASSWORD} characters")
    return password


@dataclass(frozen=True, slots=True)
class Throttle:
    """The failures of one email and of one client within the window, oldest first."""

    by_email: Sequence[datetime]
    by_client: Sequence[datetime]

    def retry_after(self, now: datetime) -> int | None:
        """Seconds until a login may be tried, or None when it may be now."""
        waits = [
            _wait(self.by_email, THROTTLE_FAILURES, now),
            _wait(self.by_client, THROTTLE_CLIENT_FAILURES, now),
        ]
        return max((w for w in waits if w is not None), default=None)


def _wait(failures: Sequence[datetime], limit: int, now: datetime) -> int | None:
    recent = sorted(moment for moment in failures if moment > now - THROTTLE_WINDOW)
    if len(recent) < limit:
        return None
    # Allowed again once all but ``limit - 1`` of them have left the window.
    frees_at = recent[-limit] + THROTTLE_WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))


__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "SESSION_ABSOLUTE",
    "SESSION_IDLE",
    "THROTTLE_CLIENT_FAILURES",
    "THROTTLE_FAILURES",
    "THROTTLE_WINDOW",
    "DashboardSession",
    "DashboardUser",
    "LoginFailed",
    "LoginThrottled",
    "Throttle",
    "check_password",
    "session_end",
]
