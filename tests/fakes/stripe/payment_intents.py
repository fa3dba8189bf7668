"""PaymentIntents: create (with ``confirm``/``off_session``), retrieve, confirm, and the
customer's authentication on the hosted 3-D Secure page (a test-only route).

What Stripe documents and this fake does: a charge below the currency's minimum is 400
``amount_too_small``; a three-decimal currency's amount must end in 0 and an ISK amount be a
multiple of 100 (``invalid_charge_amount_no_decimal_compatible`` otherwise); a declined card is
402 ``card_error`` with the PaymentIntent in the error, left ``requires_payment_method``; a card
needing 3-D Secure fails off-session with ``authentication_required`` and on-session answers
``requires_action`` with ``next_action.redirect_to_url``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe import payment_methods
from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import StripeError, flag, integer, invalid

# Minimum charges in Stripe's units (docs.stripe.com/currencies, minimum charge amounts).
MINIMUMS = {"usd": 50, "eur": 50, "gbp": 30, "jpy": 50, "chf": 50, "cad": 50}
THREE_DECIMAL = {"bhd", "jod", "kwd", "omr", "tnd"}

_DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "authentication_required": (
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}


def _check_amount(amount: int, currency: str) -> None:
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", param="amount")
    if amount < MINIMUMS.get(currency, 50):
        raise invalid(
            "Amount must be at least the minimum charge for this currency.",
            param="amount",
            code="amount_too_small",
        )
    if (currency in THREE_DECIMAL and amount % 10) or (currency == "isk" and amount % 100):
        raise invalid(
            f"Invalid amount for {currency.upper()}.",
            param="amount",
            code="invalid_charge_amount_no_decimal_compatible",
        )


def create(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    amount = integer(params, "amount")
    assert amount is not None
    currency = params.get("currency")
    if not currency:
        raise invalid("Missing required param: currency.", param="currency")
    _check_amount(amount, currency)
    if params.get("customer"):
        store.get("customer", params["customer"], param="customer")
    if flag(params, "off_session") and not flag(params, "confirm"):
        raise invalid("off_session can only be used with confirm=true.", param="off_session")
    intent = store.put(
        {
            "id": store.new_id("pi"),
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": currency,
            "customer": params.get("customer"),
            "description": params.get("description"),
            "metadata": dict(params.get("metadata") or {}),
            "payment_method": None,
            "setup_future_usage": params.get("setup_future_usage"),
            "status": "requires_payment_method",
            "last_payment_error": None,
            "next_action": None,
            "latest_charge": None,
            "created": store.now(),
            "livemode": False,
        }
    )
    intent["client_secret"] = f"{intent['id']}_secret_{store.new_id('s')}"
    store.emit("payment_intent.created", intent)
    if params.get("payment_method"):
        method = payment_methods.resolve(store, params["payment_method"])
        intent["payment_method"] = method["id"]
        intent["status"] = "requires_confirmation"
    if flag(params, "confirm"):
        return confirm_intent(store, intent, params)
    return intent


def confirm_intent(store: Store, intent: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Try to pay ``intent``: succeeded, declined (raises 402), or waiting for the customer."""
    if intent["status"] in ("succeeded", "canceled"):
        raise invalid(
            f"This PaymentIntent's status is {intent['status']}: it cannot be confirmed.",
            code="payment_intent_unexpected_state",
        )
    if params.get("payment_method"):
        intent["payment_method"] = payment_methods.resolve(store, params["payment_method"])["id"]
    if intent["payment_method"] is None:
        raise invalid(
            "You cannot confirm this PaymentIntent because it's missing a payment method.",
            code="payment_intent_unexpected_state",
        )
    method = store.get("payment_method", intent["payment_method"])
    card = payment_methods.behaviour(store, method)
    off_session = flag(params, "off_session")
    if card == "authentication_required" and not off_session:
        url = f"{store.base_url}/_fake/3ds/{intent['id']}"
        intent["status"] = "requires_action"
        intent["next_action"] = {
            "type": "redirect_to_url",
            "redirect_to_url": {"url": url, "return_url": params.get("return_url")},
        }
        store.emit("payment_intent.requires_action", intent)
        return intent
    if card != "succeeds":
        _decline(store, intent, method, card)
    return succeed(store, intent)


def _decline(store: Store, intent: dict[str, Any], method: dict[str, Any], card: str) -> None:
    code, message = _DECLINES[card]
    error = {
        "type": "card_error",
        "code": code,
        "decline_code": card,
        "message": message,
        "payment_method": method,
    }
    intent.update(status="requires_payment_method", last_payment_error=error, next_action=None)
    store.emit("payment_intent.payment_failed", intent)
    raise StripeError(
        402,
        "card_error",
        message,
        code=code,
        decline_code=card,
        extra={"payment_intent": intent, "payment_method": method},
    )


def succeed(store: Store, intent: dict[str, Any]) -> dict[str, Any]:
    method = store.get("payment_method", intent["payment_method"])
    if intent["setup_future_usage"] and intent["customer"]:
        payment_methods.attach_to(store, method, intent["customer"])
    intent.update(
        status="succeeded",
        amount_received=intent["amount"],
        latest_charge=store.new_id("ch"),
        next_action=None,
        last_payment_error=None,
    )
    store.emit("payment_intent.succeeded", intent)
    return intent


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return store.get("payment_intent", path["id"])


def confirm(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return confirm_intent(store, store.get("payment_intent", path["id"]), params)


def authenticate(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    """Test-only: the customer passes (or fails) 3-D Secure on the page ``next_action`` named."""
    intent = store.get("payment_intent", path["id"])
    if intent["status"] != "requires_action":
        raise invalid("This PaymentIntent does not require an action.")
    if params.get("outcome", "succeed") == "fail":
        method = store.get("payment_method", intent["payment_method"])
        try:
            _decline(store, intent, method, "authentication_required")
        except StripeError:
            return intent
    return succeed(store, intent)


ROUTES = [
    ("POST", "/v1/payment_intents", create),
    ("GET", "/v1/payment_intents/{id}", retrieve),
    ("POST", "/v1/payment_intents/{id}/confirm", confirm),
    ("POST", "/_fake/payment_intents/{id}/authenticate", authenticate),
]
