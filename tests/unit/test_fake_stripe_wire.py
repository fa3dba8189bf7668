"""The fake Stripe reads Stripe's form encoding as Stripe does (``tests/fakes/stripe/wire``)."""

from __future__ import annotations

import pytest

from tests.fakes.stripe.wire import StripeError, decode_form


def test_nested_keys_lists_and_expand() -> None:
    body = (
        b"mode=payment&line_items[0][price_data][currency]=usd&line_items[0][quantity]=1"
        b"&line_items[1][quantity]=2&expand[]=payment_intent&expand[]=customer"
        b"&metadata[k]=v&payment_intent_data[setup_future_usage]=off_session"
    )
    assert decode_form(body) == {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "usd"}, "quantity": "1"}, {"quantity": "2"}],
        "expand": ["payment_intent", "customer"],
        "metadata": {"k": "v"},
        "payment_intent_data": {"setup_future_usage": "off_session"},
    }


def test_a_key_both_plain_and_nested_is_refused() -> None:
    with pytest.raises(StripeError) as refused:
        decode_form(b"metadata=x&metadata[k]=v")
    assert refused.value.status == 400
