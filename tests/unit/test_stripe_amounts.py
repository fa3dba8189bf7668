"""Amounts in Stripe's units and Stripe's minimum charge (``adapters/payments/stripe_amounts``)."""

from __future__ import annotations

import pytest

from seatledger.adapters.payments.stripe_amounts import from_stripe, minimum_charge, to_stripe


@pytest.mark.parametrize(
    ("amount", "currency", "stripe"),
    [
        (1234, "usd", 1234),  # two decimals in both
        (500, "jpy", 500),  # zero-decimal in both
        (27, "isk", 2700),  # ISO whole krónur; Stripe two decimals, multiples of 100
        (5124, "kwd", 5120),  # three decimals, last digit 0: rounded down, never overcharged
        (5130, "kwd", 5130),
        (150, "mga", 1),  # ISO two decimals, Stripe zero: rounded down
        (99, "huf", 99),  # whole forints are a payout rule only
    ],
)
def test_amounts_go_out_in_stripes_units(amount: int, currency: str, stripe: int) -> None:
    assert to_stripe(amount, currency) == stripe


def test_amounts_come_back_in_iso_units() -> None:
    assert from_stripe(2700, "isk") == 27
    assert from_stripe(1, "mga") == 100
    assert from_stripe(5120, "kwd") == 5120


def test_the_minimum_charge_is_in_iso_units() -> None:
    assert minimum_charge("usd") == 50
    assert minimum_charge("gbp") == 30
    assert minimum_charge("jpy") == 50
    assert minimum_charge("huf") == 17500
    assert minimum_charge("xof") == 1  # not in Stripe's table: no known minimum
