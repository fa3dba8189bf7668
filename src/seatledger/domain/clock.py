"""Time comes from an injected clock, never from ``datetime.now()`` inside the rules.

The clocks tick in whole seconds: the API reads and answers times to the second
(``2031-01-16T12:00:00Z``), so every instant the engine keeps (a period's end, an expiry) is
exactly the one a client reads back and may send again (moving the sandbox clock to a
subscription's ``current_period_end`` renews it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


def format_timestamp(value: datetime) -> str:
    """``2031-01-16T12:00:00Z``: UTC, whole seconds (a fraction is dropped, as a change made
    during second X counts from second X), no offset: the one format of every answer, event,
    webhook and email (SPEC §6)."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


class Clock(Protocol):
    def now(self) -> datetime: ...


def _this_second() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class SystemClock:
    def now(self) -> datetime:
        return _this_second()


@dataclass
class FixedClock:
    """A clock that moves only when told to: for tests and the sandbox."""

    current: datetime = field(default_factory=lambda: datetime(2027, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        self.current += delta
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


class SandboxClock:
    """The sandbox's clock (``SEATLEDGER_SANDBOX=1``): frozen at the time last set, shared by
    every process through the ``sandbox_clock`` row (see ``seatledger.services.sandbox``).

    Until it is first set (the row holds NULL) it reads the system time. It only moves forward.
    """

    def __init__(self, current: datetime | None = None) -> None:
        self.current = current

    def now(self) -> datetime:
        return _this_second() if self.current is None else self.current

    def set(self, moment: datetime) -> None:
        self.current = moment
