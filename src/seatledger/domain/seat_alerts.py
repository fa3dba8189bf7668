"""Seat alerts: a company's thresholds on ``used / limit`` per product (percent).

The rule. A threshold ``p`` is reached when ``used * 100 >= p * limit`` (exact integers) and
the limit is a positive number: an unlimited product (``limit`` null) or one with nothing
bought (0) reaches none. A rise from below to at-or-above emits
``seat.usage_threshold_reached`` once; falling below re-arms it silently, so the next rise is
told again. Configuring thresholds arms them from the usage of that moment, silently: a
threshold already reached is told only after usage has fallen below it and risen again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatledger.domain.errors import ValidationFailed

MAX_THRESHOLDS = 5


@dataclass(frozen=True, slots=True)
class SeatAlert:
    """One threshold of a company's product; ``reached_at`` null while usage is below it."""

    company_id: str
    product_id: str
    threshold: int
    reached_at: datetime | None

    def reached_by(self, used: int, limit: int | None) -> bool:
        return is_reached(self.threshold, used, limit)


@dataclass(frozen=True, slots=True)
class ThresholdReached:
    """What ``seat.usage_threshold_reached`` carries."""

    company_id: str
    product_id: str
    threshold: int
    used: int
    limit: int


def is_reached(threshold: int, used: int, limit: int | None) -> bool:
    return limit is not None and limit > 0 and used * 100 >= threshold * limit


def check_thresholds(thresholds: list[int]) -> list[int]:
    """Integers 1–100, at most five, distinct; answered in ascending order."""
    if len(thresholds) > MAX_THRESHOLDS:
        raise ValidationFailed.field("thresholds", f"at most {MAX_THRESHOLDS} thresholds")
    for i, value in enumerate(thresholds):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
            raise ValidationFailed.field(f"thresholds[{i}]", "an integer from 1 to 100")
    if len(set(thresholds)) != len(thresholds):
        raise ValidationFailed.field("thresholds", "thresholds must be distinct")
    return sorted(thresholds)


__all__ = ["MAX_THRESHOLDS", "SeatAlert", "ThresholdReached", "check_thresholds", "is_reached"]
