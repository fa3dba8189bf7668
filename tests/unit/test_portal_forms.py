"""What the manager's forms read from what people type, without a database."""

from __future__ import annotations

import base64
import json

import pytest

from seatledger.pricing.errors import SeatsOutOfRange
from seatledger.web.portal_notices import _BUDGET, Notice, _fitted
from seatledger.web.portal_route import seat_count


@pytest.mark.parametrize("typed", ["8", "0", "000012", "999999999999"])
def test_a_seat_count_is_ascii_digits(typed: str) -> None:
    assert seat_count(typed) == int(typed)


@pytest.mark.parametrize("typed", ["", "-1", "1.5", "1e3", "１２", "1_000", "3 4", "9" * 13])
def test_anything_else_is_the_prices_whole_number_error(typed: str) -> None:
    with pytest.raises(SeatsOutOfRange) as refused:
        seat_count(typed)
    assert refused.value.errors == (("seats", "must be a whole number of seats"),)


def test_a_long_report_keeps_its_first_lines_and_says_how_many_more() -> None:
    notices = [
        Notice(f"person{i}@acme.test was not invited: no seat", error=True) for i in range(200)
    ]
    kept = _fitted(notices)
    assert len(json.dumps(kept)) <= _BUDGET + 40  # the "and more" line
    assert len(base64.urlsafe_b64encode(json.dumps(kept).encode())) + 65 < 4000
    assert kept[0] == [notices[0].text, True]
    assert kept[-1][0] == f"… and {200 - (len(kept) - 1)} more."
    assert _fitted(notices[:2]) == [[n.text, True] for n in notices[:2]]
