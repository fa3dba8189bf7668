"""The seat alerts' rule (``seatledger.domain.seat_alerts``), without a database."""

from __future__ import annotations

import pytest

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.seat_alerts import check_thresholds, is_reached


def test_a_threshold_is_reached_at_or_above_its_share_of_the_limit_in_exact_integers() -> None:
    assert not is_reached(80, 3, 4)
    assert is_reached(75, 3, 4)
    assert not is_reached(34, 1, 3)  # 33.3…%: never rounded up
    assert is_reached(33, 1, 3)
    assert is_reached(100, 5, 5)
    assert not is_reached(100, 4, 5)
    assert is_reached(80, 6, 5)  # above the limit (a pool shrunk below its holders)


def test_an_unlimited_or_empty_limit_reaches_nothing() -> None:
    assert not is_reached(1, 1_000, None)
    assert not is_reached(1, 0, 0)


def test_thresholds_are_checked_and_ordered() -> None:
    assert check_thresholds([100, 80]) == [80, 100]
    assert check_thresholds([]) == []
    for bad, field in [
        ([0], "thresholds[0]"),
        ([50, True], "thresholds[1]"),
        ([1, 2, 3, 4, 5, 6], "thresholds"),
        ([7, 7], "thresholds"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            check_thresholds(bad)
        assert [name for name, _ in refused.value.errors] == [field]
