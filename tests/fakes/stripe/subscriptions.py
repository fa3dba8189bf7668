"""Subscriptions and their items: create (``billing_cycle_anchor`` with its proration,
``default_payment_method``), retrieve, update (quantities, items added or deleted,
``proration_behavior``, ``payment_behavior``, ``cancel_at_period_end``), cancel (``invoice_now``,
``prorate``: a final invoice of the prorations waiting, and of a credit for the unused time).

As Stripe does (API versions from 2025 on), each item carries its period
(``current_period_start``/``_end``: one month or one year from creation here). Creating bills
the first period at once (``invoices.make``); a declining customer leaves the subscription
``incomplete``. An update's ``proration_behavior``:

* ``create_prorations`` (the default): the proration waits for the next invoice (kept in
  ``pending_prorations`` on the store, not billed by this fake);
* ``always_invoice``: an invoice of the proration now; with
  ``payment_behavior=pending_if_incomplete`` and a declining customer the items stay as they
  were and the subscription shows ``pending_update`` (Stripe applies it only once paid);
* ``none``: no proration.

A dashboard edit is the same API call (tests make it with the SDK, as the dashboard would).
Every change emits ``customer.subscription.updated``; cancelling emits ``…deleted``.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from tests.fakes.stripe import invoices, prices
from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import StripeError, flag, integer, invalid, list_object

_BEHAVIORS = ("create_prorations", "always_invoice", "none")


def _period_end(start: int, interval: str) -> int:
    moment = datetime.fromtimestamp(start, UTC)
    months = 12 if interval == "year" else 1
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return int(moment.replace(year=year, month=month + 1, day=day).timestamp())


def _item(store: Store, subscription: dict[str, Any], raw: dict[str, Any], index: int) -> dict:
    price = store.get("price", raw.get("price") or "", param=f"items[{index}][price]")
    start = subscription["_start"]
    quantity = integer(raw, "quantity", required=False)
    end = subscription.get("_anchor") or _period_end(start, price["recurring"]["interval"])
    return {
        "id": store.new_id("si"),
        "object": "subscription_item",
        "price": price,
        "quantity": 1 if quantity is None else quantity,
        "subscription": subscription["id"],
        "current_period_start": start,
        "current_period_end": end,
    }


def _anchor(store: Store, params: dict[str, Any], raw_items: list[dict[str, Any]]) -> int | None:
    """``billing_cycle_anchor``: in the future and not past the first natural period end, as
    Stripe requires."""
    anchor = integer(params, "billing_cycle_anchor", required=False)
    if anchor is None:
        return None
    now = store.now()
    price = store.get("price", raw_items[0].get("price") or "", param="items[0][price]")
    natural = _period_end(now, price["recurring"]["interval"])
    if anchor <= now:
        raise invalid("billing_cycle_anchor cannot be in the past.", "billing_cycle_anchor")
    if anchor > natural:
        raise invalid(
            f"billing_cycle_anchor cannot be later than next natural billing date ({natural})"
            " for plan",
            "billing_cycle_anchor",
        )
    return anchor


def _first_lines(subscription: dict[str, Any], behavior: str) -> list[dict[str, Any]]:
    """The first invoice's lines: the whole period, or with an anchor the time up to it
    (prorated, or nothing under ``proration_behavior=none``)."""
    lines = _period_lines(subscription)
    if subscription.get("_anchor") is None:
        return lines
    if behavior == "none":
        return []
    start = subscription["_start"]
    first = subscription["items"]["data"][0]
    natural = _period_end(start, first["price"]["recurring"]["interval"])
    share = Fraction(subscription["_anchor"] - start, natural - start)
    return [{**line, "amount": round(line["amount"] * share), "proration": True} for line in lines]


def _public(subscription: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in subscription.items() if not k.startswith("_")}


def _period_lines(subscription: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "object": "line_item",
            "price": item["price"]["id"],
            "quantity": item["quantity"],
            "amount": prices.amount(item["price"], item["quantity"]),
            "proration": False,
        }
        for item in subscription["items"]["data"]
    ]


def create(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    customer = store.get("customer", params.get("customer") or "", param="customer")
    raw_items = params.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise invalid("Missing required param: items.", param="items")
    behavior = params.get("proration_behavior", "create_prorations")
    if behavior not in _BEHAVIORS:
        raise invalid(f"Invalid proration_behavior: {behavior}", param="proration_behavior")
    method = params.get("default_payment_method")
    if (
        method is not None
        and store.get("payment_method", method, param="default_payment_method")["customer"]
        != customer["id"]
    ):
        raise invalid(
            f"The payment method {method} is not attached to this customer.",
            param="default_payment_method",
        )
    subscription: dict[str, Any] = {
        "id": store.new_id("sub"),
        "object": "subscription",
        "customer": customer["id"],
        "status": "active",
        "cancel_at_period_end": False,
        "canceled_at": None,
        "created": store.now(),
        "metadata": dict(params.get("metadata") or {}),
        "pending_update": None,
        "default_payment_method": method,
        "billing_cycle_anchor": None,
        "livemode": False,
        "_start": store.now(),
        "_anchor": _anchor(store, params, raw_items),
    }
    subscription["billing_cycle_anchor"] = subscription["_anchor"] or subscription["_start"]
    items = [_item(store, subscription, raw, i) for i, raw in enumerate(raw_items)]
    subscription["items"] = list_object("/v1/subscription_items", items)
    subscription["currency"] = items[0]["price"]["currency"]
    store.put(subscription)
    lines = _first_lines(subscription, behavior)
    invoice = invoices.make(store, subscription, lines, "subscription_create")
    if invoice["status"] != "paid":
        subscription["status"] = "incomplete"
    subscription["latest_invoice"] = invoice["id"]
    store.emit("customer.subscription.created", _public(subscription))
    return _public(subscription)


def retrieve(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return _public(store.get("subscription", path["id"]))


def _edited_items(
    store: Store, subscription: dict[str, Any], raw_items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The items as ``raw_items`` would leave them (nothing changed yet)."""
    items = {item["id"]: dict(item) for item in subscription["items"]["data"]}
    for index, raw in enumerate(raw_items):
        if raw.get("id"):
            if raw["id"] not in items:
                raise invalid(f"No such subscription item: {raw['id']}", param=f"items[{index}]")
            if flag(raw, "deleted"):
                del items[raw["id"]]
                continue
            item = items[raw["id"]]
            if raw.get("price"):
                item["price"] = store.get("price", raw["price"], param=f"items[{index}][price]")
            quantity = integer(raw, "quantity", required=False)
            if quantity is not None:
                item["quantity"] = quantity
        else:
            added = _item(store, subscription, raw, index)
            items[added["id"]] = added
    return list(items.values())


def _proration(subscription: dict[str, Any], new_items: list[dict[str, Any]], now: int) -> int:
    old = sum(prices.amount(i["price"], i["quantity"]) for i in subscription["items"]["data"])
    new = sum(prices.amount(i["price"], i["quantity"]) for i in new_items)
    first = subscription["items"]["data"][0]
    start, end = first["current_period_start"], first["current_period_end"]
    return round(Fraction(new - old) * Fraction(max(0, end - now), end - start))


def update(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    subscription = store.get("subscription", path["id"])
    if subscription["status"] == "canceled":
        raise invalid("A canceled subscription can only update its metadata.", param="items")
    behavior = params.get("proration_behavior", "create_prorations")
    if behavior not in _BEHAVIORS:
        raise invalid(f"Invalid proration_behavior: {behavior}", param="proration_behavior")
    if "cancel_at_period_end" in params:
        subscription["cancel_at_period_end"] = flag(params, "cancel_at_period_end")
    subscription["metadata"].update(params.get("metadata") or {})
    raw_items = params.get("items")
    if isinstance(raw_items, list) and raw_items:
        _apply_items(store, subscription, _edited_items(store, subscription, raw_items), params)
    store.emit("customer.subscription.updated", _public(subscription))
    return _public(subscription)


def _apply_items(
    store: Store, subscription: dict[str, Any], items: list[dict[str, Any]], params: dict
) -> None:
    behavior = params.get("proration_behavior", "create_prorations")
    amount = _proration(subscription, items, store.now()) if behavior != "none" else 0
    if behavior == "always_invoice" and amount != 0:
        line = {"object": "line_item", "amount": amount, "proration": True, "quantity": 1}
        invoice = invoices.make(store, subscription, [line], "subscription_update")
        subscription["latest_invoice"] = invoice["id"]
        if invoice["status"] != "paid":
            if params.get("payment_behavior") == "pending_if_incomplete":
                subscription["pending_update"] = {
                    "subscription_items": items,
                    "expires_at": store.now() + 23 * 3600,
                }
                return
            subscription["status"] = "past_due"
    elif behavior == "create_prorations" and amount != 0:
        store.pending_prorations.append((subscription["id"], amount))
    subscription["items"]["data"] = items
    subscription["pending_update"] = None


def cancel(store: Store, params: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    subscription = store.get("subscription", path["id"])
    if subscription["status"] == "canceled":
        raise StripeError(
            400,
            "invalid_request_error",
            f"No such subscription: '{subscription['id']}'",
            code="resource_missing",
        )
    if flag(params, "invoice_now") or flag(params, "prorate"):
        _final_invoice(store, subscription, prorate=flag(params, "prorate"))
    subscription["status"] = "canceled"
    subscription["canceled_at"] = store.now()
    store.emit("customer.subscription.deleted", _public(subscription))
    return _public(subscription)


def _final_invoice(store: Store, subscription: dict[str, Any], *, prorate: bool) -> None:
    """``invoice_now``: the prorations waiting, and with ``prorate`` a credit for the unused
    time, on one invoice now."""
    lines = [
        {"object": "line_item", "amount": amount, "proration": True, "quantity": 1}
        for sub_id, amount in store.pending_prorations
        if sub_id == subscription["id"]
    ]
    others = [p for p in store.pending_prorations if p[0] != subscription["id"]]
    store.pending_prorations[:] = others
    if prorate:
        credit = _proration(subscription, [], store.now())
        lines.append({"object": "line_item", "amount": credit, "proration": True, "quantity": 1})
    if lines:
        invoice = invoices.make(store, subscription, lines, "subscription_update")
        subscription["latest_invoice"] = invoice["id"]


ROUTES = [
    ("POST", "/v1/subscriptions", create),
    ("GET", "/v1/subscriptions/{id}", retrieve),
    ("POST", "/v1/subscriptions/{id}", update),
    ("DELETE", "/v1/subscriptions/{id}", cancel),
]
