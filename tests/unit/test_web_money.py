"""Money on the pages: ISO 4217 digits, exact, in the currency's own symbol."""

from __future__ import annotations

import pytest

from seatledger.web.templating import money


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (123450, "usd", "$1,234.50"),
        (3000, "jpy", "¥3,000"),
        (1250, "bhd", "BHD1.250"),
        (-500, "eur", "-€5.00"),
        (1, "usd", "$0.01"),
        (10**20 + 1, "usd", "$1,000,000,000,000,000,000.01"),
    ],
)
def test_amounts_read_as_people_read_them(amount: int, currency: str, shown: str) -> None:
    assert money(amount, currency).replace("\xa0", "") == shown
