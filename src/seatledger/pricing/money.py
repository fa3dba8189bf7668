"""Money: integer amounts in a currency's minor unit, and the one rounding rule.

The minor-unit exponent comes from the ISO 4217 table itself (the ``iso4217`` package ships
ISO's XML). Babel's CLDR data is *not* used for this: CLDR gives display digits, which differ
from ISO for IQD, ALL, AFN, IRR, LAK, LBP, MGA, MMK, RSD, SOS, SYP and YER, and it answers 2
for codes it does not know. Codes without a minor unit in ISO (XAU, XDR, ...) are not money
that can be charged, so they are rejected like unknown codes.
"""

from __future__ import annotations

from functools import cache

from iso4217 import Currency

from seatledger.pricing.errors import InvalidPrice


@cache
def _exponents() -> dict[str, int]:
    return {c.code.lower(): c.exponent for c in Currency if c.exponent is not None}


def currency_exponent(currency: str, *, field: str = "currency") -> int:
    """The ISO 4217 minor-unit exponent of a lowercase currency code (usd → 2, jpy → 0)."""
    exponent = _exponents().get(currency) if isinstance(currency, str) else None
    if exponent is None:
        if isinstance(currency, str) and currency.lower() in _exponents():
            raise InvalidPrice([(field, f"currency codes are lowercase: use {currency.lower()!r}")])
        raise InvalidPrice([(field, f"{currency!r} is not an ISO 4217 currency code")])
    return exponent


def div_round_half_even(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half to even, in integers only (no float ever)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def format_amount(amount: int, currency: str) -> str:
    """An amount in minor units as people read it, by the ISO 4217 exponent: ``USD 1,234.50``,
    ``JPY 1,200``, ``BHD 1.250`` (integers only, so no rounding ever shows)."""
    exponent = currency_exponent(currency)
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    shown = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    return f"{currency.upper()} {sign}{shown}"
