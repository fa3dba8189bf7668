"""The catalog's events as JSON: what ``product.created``, ``price.*`` and ``benefit.created``
carry."""

from __future__ import annotations

from typing import Any

from seatledger.domain.catalog import Benefit, Price, Product


def price_payload(price: Price) -> dict[str, Any]:
    return {
        "id": price.id,
        "product_id": price.product_id,
        "version": price.version,
        **price.seat_price.to_mapping(),
        "archived_at": None if price.archived_at is None else price.archived_at.isoformat(),
        "created_at": price.created_at.isoformat(),
    }


def product_payload(product: Product) -> dict[str, Any]:
    return {
        "id": product.id,
        "name": product.name,
        "description": product.description,
        "prices": [price_payload(price) for price in product.prices],
        "benefit_ids": list(product.benefit_ids),
        "proration_defaults": {
            "increase": product.proration_increase,
            "decrease": product.proration_decrease,
            "true_up_interval": product.true_up_interval,
        },
        "created_at": product.created_at.isoformat(),
    }


def benefit_payload(benefit: Benefit) -> dict[str, Any]:
    return {
        "id": benefit.id,
        "type": benefit.type,
        "description": benefit.description,
        "properties": benefit.properties,
        "created_at": benefit.created_at.isoformat(),
    }


__all__ = ["benefit_payload", "price_payload", "product_payload"]
