"""Customers: create, retrieve, update (``invoice_settings.default_payment_method``)."""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import invalid


def _customer(store: Store, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": store.new_id("cus"),
        "object": "customer",
        "created": store.now(),
        "email": params.get("email"),
        "name": params.get("name"),
        "description": params.get("description"),
        "metadata": dict(params.get("metadata") or {}),
        "invoice_settings": {"default_payment_method": None},
        "livemode": False,
    }


def create(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    customer = store.put(_customer(store, params))
    store.emit("customer.created", customer)
    return customer


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return store.get("customer", path["id"])


def update(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    customer = store.get("customer", path["id"])
    for name in ("email", "name", "description"):
        if name in params:
            customer[name] = params[name] or None
    customer["metadata"].update(params.get("metadata") or {})
    settings = params.get("invoice_settings") or {}
    if "default_payment_method" in settings:
        method_id = settings["default_payment_method"]
        method = store.get("payment_method", method_id, param="default_payment_method")
        if method["customer"] != customer["id"]:
            raise invalid(
                f"The payment method {method_id} is not attached to this customer.",
                param="invoice_settings[default_payment_method]",
            )
        customer["invoice_settings"]["default_payment_method"] = method_id
    store.emit("customer.updated", customer)
    return customer


ROUTES = [
    ("POST", "/v1/customers", create),
    ("GET", "/v1/customers/{id}", retrieve),
    ("POST", "/v1/customers/{id}", update),
]
