"""ISO 4217 minor units and the rounding rule."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatledger.pricing import InvalidPrice, currency_exponent, div_round_half_even
from seatledger.pricing.money import format_amount


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("usd", 2), ("eur", 2), ("jpy", 0), ("krw", 0), ("kwd", 3), ("bhd", 3), ("clf", 4)],
)
def test_exponents_from_iso_4217(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("currency", "exponent"),
    # CLDR (babel) answers 0 for most of these; ISO 4217 is the reference for money.
    [
        ("iqd", 3),
        ("all", 2),
        ("afn", 2),
        ("irr", 2),
        ("lak", 2),
        ("lbp", 2),
        ("mga", 2),
        ("mmk", 2),
        ("rsd", 2),
        ("sos", 2),
        ("syp", 2),
        ("yer", 2),
    ],
)
def test_iso_differs_from_cldr_and_iso_wins(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize("currency", ["zzz", "", "us", "USD", "xau", "xxx"])
def test_unknown_or_unchargeable_codes_are_rejected(currency: str) -> None:
    with pytest.raises(InvalidPrice) as error:
        currency_exponent(currency)
    assert error.value.errors[0][0] == "currency"


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 2), (7, 2, 4), (-5, 2, -2), (-7, 2, -4), (1, 3, 0), (2, 3, 1), (-2, 3, -1), (0, 9, 0)],
)
def test_round_half_even(numerator: int, denominator: int, expected: int) -> None:
    assert div_round_half_even(numerator, denominator) == expected


@given(st.integers(-(10**18), 10**18), st.integers(1, 10**12))
def test_round_half_even_matches_exact_fraction_rounding(numerator: int, denominator: int) -> None:
    # Fraction.__round__ is exact banker's rounding: the integer version must agree.
    assert div_round_half_even(numerator, denominator) == round(Fraction(numerator, denominator))


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (0, "usd", "USD 0.00"),
        (5, "usd", "USD 0.05"),
        (123456, "usd", "USD 1,234.56"),
        (-250, "eur", "EUR -2.50"),
        (1200, "jpy", "JPY 1,200"),
        (1250, "bhd", "BHD 1.250"),
        (1000, "iqd", "IQD 1.000"),  # ISO's exponent, not CLDR's display digits
    ],
)
def test_amounts_are_shown_in_the_currencys_minor_units(
    amount: int, currency: str, shown: str
) -> None:
    assert format_amount(amount, currency) == shown
