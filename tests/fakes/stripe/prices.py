"""Products and Prices: create, retrieve; and what a Price charges for a quantity.

A Price is ``billing_scheme=per_unit`` (``unit_amount``) or ``tiered`` (``tiers_mode``
volume/graduated, ``tiers[]`` of ``up_to`` (an integer, or ``inf`` for the last) with
``unit_amount`` and ``flat_amount``), one-time or ``recurring[interval]``. ``amount`` computes
what Stripe bills for an item: per unit, ``quantity × unit_amount``; volume, the tier holding the
quantity prices every unit plus its flat amount; graduated, each tier its units plus its flat
amount when reached. At quantity 0 a tiered Price still charges its first tier's flat amount
(Stripe documents the flat amount as charged for the first tier however many units).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.stripe.state import Store
from tests.fakes.stripe.wire import integer, invalid


def create_product(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    if not params.get("name"):
        raise invalid("Missing required param: name.", param="name")
    return store.put(
        {
            "id": store.new_id("prod"),
            "object": "product",
            "name": params["name"],
            "active": True,
            "created": store.now(),
            "metadata": dict(params.get("metadata") or {}),
            "livemode": False,
        }
    )


def _tiers(params: dict[str, Any]) -> list[dict[str, Any]]:
    raw = params.get("tiers")
    if not isinstance(raw, list) or not raw:
        raise invalid("Missing required param: tiers.", param="tiers")
    tiers = []
    for index, tier in enumerate(raw):
        up_to = tier.get("up_to")
        last = index == len(raw) - 1
        if (up_to == "inf") != last:
            raise invalid("Only the last tier may have up_to=inf.", param=f"tiers[{index}][up_to]")
        tiers.append(
            {
                "up_to": None if last else integer(tier, "up_to"),
                "unit_amount": integer(tier, "unit_amount", required=False) or 0,
                "flat_amount": integer(tier, "flat_amount", required=False) or 0,
            }
        )
    return tiers


def _recurring(recurring: Any) -> dict[str, Any] | None:
    if not recurring:
        return None
    return {"interval": recurring["interval"], "interval_count": 1, "usage_type": "licensed"}


def create_price(store: Store, params: dict[str, Any], _: dict[str, str]) -> dict[str, Any]:
    store.get("product", params.get("product") or "", param="product")
    scheme = params.get("billing_scheme", "per_unit")
    recurring = params.get("recurring")
    price: dict[str, Any] = {
        "id": store.new_id("price"),
        "object": "price",
        "active": True,
        "billing_scheme": scheme,
        "currency": params.get("currency"),
        "product": params["product"],
        "recurring": _recurring(recurring),
        "type": "recurring" if recurring else "one_time",
        "unit_amount": None,
        "tiers_mode": None,
        "tiers": None,
        "lookup_key": params.get("lookup_key"),
        "metadata": dict(params.get("metadata") or {}),
        "created": store.now(),
        "livemode": False,
    }
    if scheme == "tiered":
        if params.get("tiers_mode") not in ("volume", "graduated"):
            raise invalid("Invalid tiers_mode.", param="tiers_mode")
        price["tiers_mode"] = params["tiers_mode"]
        price["tiers"] = _tiers(params)
    elif scheme == "per_unit":
        price["unit_amount"] = integer(params, "unit_amount")
    else:
        raise invalid(f"Invalid billing_scheme: {scheme}", param="billing_scheme")
    return store.put(price)


def retrieve_price(store: Store, _: dict[str, Any], path: dict[str, str]) -> dict[str, Any]:
    return store.get("price", path["id"])


def amount(price: dict[str, Any], quantity: int) -> int:
    """What Stripe bills for ``quantity`` units of ``price`` for one period."""
    if price["billing_scheme"] == "per_unit":
        return quantity * int(price["unit_amount"])
    tiers = price["tiers"]
    if price["tiers_mode"] == "volume":
        for tier in tiers:
            if tier["up_to"] is None or quantity <= tier["up_to"]:
                return quantity * tier["unit_amount"] + tier["flat_amount"]
    total, lower = 0, 0
    for tier in tiers:
        top = quantity if tier["up_to"] is None else min(quantity, tier["up_to"])
        if top > lower or lower == 0:
            total += max(0, top - lower) * tier["unit_amount"] + tier["flat_amount"]
        if tier["up_to"] is None or quantity <= tier["up_to"]:
            return total
        lower = tier["up_to"]
    return total


ROUTES = [
    ("POST", "/v1/products", create_product),
    ("POST", "/v1/prices", create_price),
    ("GET", "/v1/prices/{id}", retrieve_price),
]
