"""The seat alerts' form as the portal and the dashboard read it
(``seatledger.web.seat_alerts_form``), and the percent their pages show
(``services.seat_alerts.ProductUsage``), without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.seat_alerts import check_thresholds
from seatledger.services.seat_alerts import ProductUsage
from seatledger.web.seat_alerts_form import refusal_of, thresholds_of


def test_comma_separated_percents_are_read_in_the_order_typed() -> None:
    assert thresholds_of("100, 80") == [100, 80]
    assert thresholds_of(" 80 %,90%,, ") == [80, 90]
    assert thresholds_of("") == []
    assert thresholds_of(" , ") == []


@pytest.mark.parametrize("typed", ["eighty", "80.5", "-5", "８０", "8_0", "1e2", "80 90", "%"])
def test_what_is_not_a_whole_number_is_refused_naming_its_entry(typed: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        thresholds_of(f"50, {typed}")
    assert raised.value.errors == (("thresholds[1]", "an integer from 1 to 100"),)
    assert refusal_of(raised.value, f"50, {typed}").message == (
        f"Threshold 2 ({typed}): an integer from 1 to 100."
    )


def test_a_refusal_of_the_whole_list_names_the_list() -> None:
    with pytest.raises(ValidationFailed) as raised:
        check_thresholds(thresholds_of("80, 80"))
    refusal = refusal_of(raised.value, "80, 80")
    assert (refusal.message, refusal.field, refusal.code) == (
        "Thresholds: thresholds must be distinct.",
        "thresholds",
        "validation_error",
    )


@given(used=st.integers(0, 10_000), limit=st.integers(1, 10_000), threshold=st.integers(1, 100))
def test_a_threshold_shows_as_reached_exactly_when_the_percent_shown_is_at_or_above_it(
    used: int, limit: int, threshold: int
) -> None:
    usage = ProductUsage("prod_x", "Team plan", (threshold,), used, limit)
    assert usage.percent is not None
    assert (threshold in usage.reached) == (usage.percent >= threshold)


def test_without_a_positive_limit_there_is_no_percent_and_nothing_is_reached() -> None:
    for limit in (None, 0):
        usage = ProductUsage("prod_x", "Team plan", (1, 100), 3, limit)
        assert (usage.percent, usage.reached) == (None, ())
