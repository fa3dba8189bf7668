"""Money as people read it, in the currency's own format: ``$1,234.50``, ``¥1,200``,
``BHD 1.250`` — for the pages and the invoice documents alike.

Digits follow ISO 4217 (``currency_exponent``), not CLDR's (which differ for a dozen
currencies); the value is a ``Decimal`` shifted by the exponent, never a float.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency

from seatledger.pricing.money import currency_exponent

LOCALE = "en"  # CLDR locale of the pages; currencies keep their own symbol and digits


def display_money(amount: int, currency: str) -> str:
    exponent = currency_exponent(currency)
    pattern = "¤#,##0" + ("." + "0" * exponent if exponent else "")
    value = Decimal(amount).scaleb(-exponent)
    return format_currency(
        value, currency.upper(), format=pattern, locale=LOCALE, currency_digits=False
    )


__all__ = ["LOCALE", "display_money"]
