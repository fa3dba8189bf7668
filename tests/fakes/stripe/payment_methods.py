"""Payment methods, with Stripe's test tokens.

Stripe's test payment method ids (``pm_card_visa`` …) stand for a card: wherever one is passed,
Stripe makes a new PaymentMethod (``pm_…``) of that card. The behaviour of each card:

* ``pm_card_visa`` (and ``pm_card_mastercard``): payments succeed;
* ``pm_card_chargeDeclined``: ``card_declined`` (``generic_decline``);
* ``pm_card_chargeDeclinedInsufficientFunds``: ``card_declined`` (``insufficient_funds``);
* ``pm_card_authenticationRequired``: 3-D Secure on every payment; off-session it fails with
  ``authentication_required``, on-session it answers ``requires_action``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import invalid

TEST_CARDS = {
    "pm_card_visa": ("visa", "4242", "succeeds"),
    "pm_card_mastercard": ("mastercard", "4444", "succeeds"),
    "pm_card_chargeDeclined": ("visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("visa", "9995", "insufficient_funds"),
    "pm_card_authenticationRequired": ("visa", "3184", "authentication_required"),
}


def _from_token(store: Store, token: str) -> dict[str, Any]:
    brand, last4, behaviour = TEST_CARDS[token]
    method = store.put(
        {
            "id": store.new_id("pm"),
            "object": "payment_method",
            "type": "card",
            "created": store.now(),
            "customer": None,
            "billing_details": {"email": None, "name": None},
            "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034},
            "metadata": {},
            "livemode": False,
        }
    )
    store.cards[method["id"]] = behaviour
    return method


def resolve(store: Store, method_id: str, *, param: str = "payment_method") -> dict[str, Any]:
    """The PaymentMethod ``method_id`` names: a new one for a test token."""
    if method_id in TEST_CARDS:
        return _from_token(store, method_id)
    if not method_id.startswith("pm_"):
        raise invalid(f"No such PaymentMethod: '{method_id}'", param=param, code="resource_missing")
    return store.get("payment_method", method_id, param=param)


def behaviour(store: Store, method: dict[str, Any]) -> str:
    return store.cards.get(method["id"], "succeeds")


def attach_to(store: Store, method: dict[str, Any], customer_id: str) -> None:
    customer = store.get("customer", customer_id, param="customer")
    if method["customer"] not in (None, customer["id"]):
        raise invalid(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    if method["customer"] is None:
        method["customer"] = customer["id"]
        store.emit("payment_method.attached", method)


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return resolve(store, path["id"], param="id")


def attach(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    if not params.get("customer"):
        raise invalid("Missing required param: customer.", param="customer")
    method = resolve(store, path["id"], param="id")
    attach_to(store, method, params["customer"])
    return method


ROUTES = [
    ("GET", "/v1/payment_methods/{id}", retrieve),
    ("POST", "/v1/payment_methods/{id}/attach", attach),
]
