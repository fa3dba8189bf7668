"""Amounts as Stripe takes them, and Stripe's minimum charge per currency.

seatledger keeps amounts in the ISO 4217 minor unit (``seatledger.pricing.money``); Stripe's
API counts in its own (docs.stripe.com/currencies):

* zero-decimal currencies (JPY, KRW, …) in whole units, as ISO does, except MGA, which ISO
  gives two decimals: its amounts are divided by 100 (rounded down: never charged more than
  owed);
* three-decimal currencies (BHD, JOD, KWD, OMR, TND) in thousandths whose last digit must be 0:
  an amount is rounded down to the nearest ten (at most 0.009 forgiven, never overcharged);
* ISK, zero-decimal in ISO, is two-decimal in Stripe's API with whole krónur only: × 100;
* every other currency in hundredths (HUF's and TWD's whole-unit rule is for payouts only).

A charge below Stripe's minimum (0.50 USD, …) is refused by Stripe; the engine learns the
minimum from ``minimum_charge`` and lets a small positive proration wait for the next invoice
(SPEC §7). A currency missing from the table has no known minimum (1).
"""

from __future__ import annotations

from seatledger.pricing.money import currency_exponent

ZERO_DECIMAL = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
# In Stripe's units (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
MINIMUMS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
    "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50,
    "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200,
    "sek": 300, "sgd": 50, "thb": 1000,
}  # fmt: skip


def stripe_exponent(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def _factor(shift: int) -> int:
    return int(10 ** abs(shift))


def to_stripe(amount: int, currency: str) -> int:
    """``amount`` (ISO minor units) in Stripe's units, never more than ``amount`` is worth."""
    shift = stripe_exponent(currency) - currency_exponent(currency)
    value = amount * _factor(shift) if shift >= 0 else amount // _factor(shift)
    if currency in THREE_DECIMAL:
        value -= value % 10
    return value


def from_stripe(amount: int, currency: str) -> int:
    """A Stripe amount in ISO minor units (rounded up when Stripe's unit is finer)."""
    shift = stripe_exponent(currency) - currency_exponent(currency)
    return amount * _factor(shift) if shift <= 0 else -(-amount // _factor(shift))


def minimum_charge(currency: str) -> int:
    """Stripe's minimum charge in ``currency``, in ISO minor units (1 when unknown)."""
    minimum = MINIMUMS.get(currency)
    return 1 if minimum is None else max(1, from_stripe(minimum, currency))


__all__ = ["from_stripe", "minimum_charge", "stripe_exponent", "to_stripe"]
