"""Checkout Sessions in ``payment`` mode: create, retrieve, expire, and the customer paying on
the hosted page (a test-only route: Stripe's page cannot be clicked here).

A session is ``open`` until it is paid (``complete``, ``payment_status: paid``, with the
PaymentIntent that took the money) or expires (``expires_at``: 30 minutes to 24 hours from its
creation, 24 hours by default; or ``POST …/expire``). Paying makes the PaymentIntent on-session
with the session's ``payment_intent_data`` (``setup_future_usage`` saves the card on the
customer) and emits ``checkout.session.completed``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe import payment_intents, payment_methods
from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import integer, invalid

DAY = 24 * 3600


def _amounts(params: dict[str, Any]) -> tuple[int, str]:
    items = params.get("line_items")
    if not isinstance(items, list) or not items:
        raise invalid("Missing required param: line_items.", param="line_items")
    total, currencies = 0, set()
    for index, item in enumerate(items):
        data = item.get("price_data") if isinstance(item, dict) else None
        if not isinstance(data, dict) or not data.get("currency"):
            raise invalid("Missing price_data.", param=f"line_items[{index}][price_data]")
        unit = integer(data, "unit_amount")
        quantity = integer(item, "quantity")
        assert unit is not None
        assert quantity is not None
        total += unit * quantity
        currencies.add(data["currency"])
    if len(currencies) != 1:
        raise invalid("All line items must share one currency.", param="line_items")
    return total, currencies.pop()


def create(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    if params.get("mode") != "payment":
        raise invalid("This fake serves mode=payment only.", param="mode")
    if not params.get("success_url"):
        raise invalid("Missing required param: success_url.", param="success_url")
    if params.get("customer"):
        store.get("customer", params["customer"], param="customer")
    total, currency = _amounts(params)
    payment_intents._check_amount(total, currency)
    now = store.now()
    expires_at = integer(params, "expires_at", required=False) or now + DAY
    if not now + 1800 <= expires_at <= now + DAY:
        raise invalid("expires_at must be 30 minutes to 24 hours away.", param="expires_at")
    session_id = store.new_id("cs_test")
    return store.put(
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_subtotal": total,
            "amount_total": total,
            "currency": currency,
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": None,
            "payment_intent_data": params.get("payment_intent_data") or {},
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "url": f"{store.base_url}/_fake/checkout/{session_id}",
            "created": now,
            "expires_at": expires_at,
            "livemode": False,
        }
    )


def _open(store: Store, session_id: str) -> dict[str, Any]:
    session = store.get("checkout.session", session_id)
    if session["status"] == "open" and session["expires_at"] <= store.now():
        expire_session(store, session)
    return session


def expire_session(store: Store, session: dict[str, Any]) -> dict[str, Any]:
    session.update(status="expired", url=None)
    store.emit("checkout.session.expired", public(session))
    return session


def public(session: dict[str, Any]) -> dict[str, Any]:
    """The session as the API shows it (``payment_intent_data`` is a request parameter only)."""
    return {k: v for k, v in session.items() if k != "payment_intent_data"}


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return public(_open(store, path["id"]))


def expire(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    session = _open(store, path["id"])
    if session["status"] != "open":
        raise invalid(f"Only open sessions can be expired; this one is {session['status']}.")
    return public(expire_session(store, session))


def complete(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    """Test-only: the customer pays on the hosted page with the test card ``card``."""
    session = _open(store, path["id"])
    if session["status"] != "open":
        raise invalid(f"This Checkout Session is {session['status']}.")
    data = session["payment_intent_data"]
    intent = payment_intents.create(
        store,
        {
            "amount": str(session["amount_total"]),
            "currency": session["currency"],
            "customer": session["customer"],
            "description": data.get("description"),
            "metadata": data.get("metadata") or {},
            "setup_future_usage": data.get("setup_future_usage"),
        },
        {},
    )
    method = payment_methods.resolve(store, params.get("card", "pm_card_visa"), param="card")
    intent["payment_method"] = method["id"]
    if payment_methods.behaviour(store, method) == "authentication_required":
        # On Stripe's page the customer is present and passes 3-D Secure.
        payment_intents.succeed(store, intent)
    else:  # a decline raises its 402: the session stays open for another card
        payment_intents.confirm_intent(store, intent, {})
    session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
    store.emit("checkout.session.completed", public(session))
    return public(session)


ROUTES = [
    ("POST", "/v1/checkout/sessions", create),
    ("GET", "/v1/checkout/sessions/{id}", retrieve),
    ("POST", "/v1/checkout/sessions/{id}/expire", expire),
    ("POST", "/_fake/checkout/{id}/complete", complete),
]
