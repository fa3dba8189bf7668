"""Stripe Billing, ``billing`` mode (SPEC §7): Stripe owns the subscription, its invoices and
its proration; seatledger pushes seat counts.

Prices. A seat price is one Stripe Product (named after seatledger's product) with, as
``pricing.recurring_items`` lays out, a flat base Price (``unit_amount = base_amount``, quantity
1) when the price has a base fee or included seats, and a tiered seats Price
(``billing_scheme=tiered``, the same ``tiers_mode`` and tiers, ``up_to: inf`` for the last) at
quantity ``seats − included_seats``. Both are recurring at the price's interval and made once,
under idempotency keys named after seatledger's price, then kept (``ProviderPriceBook``).

Quantities. ``push_quantities`` sets the items to what the seats need: the seats item's quantity,
added when it was absent, deleted at 0 billable seats. SPEC §3's behaviours map to Stripe's
``proration_behavior`` (``domain.provider_billing``): ``invoice`` → ``always_invoice`` with
``payment_behavior=pending_if_incomplete`` (a failed payment leaves the items as they were:
Stripe shows ``pending_update``), ``prorate`` → ``create_prorations``, ``none`` → ``none``.

Errors: ``stripe_client.call`` retries 429 (``rate_limit`` and ``lock_timeout``) and lets the
SDK retry connection errors and 5xx; what still fails is ``PaymentProviderUnavailable``. A
request Stripe refuses (400, 404) is ``ProviderRefused``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import stripe
from seatledger.adapters.db.provider_billing import ProviderPriceBook
from seatledger.adapters.payments.stripe_client import call, make_client
from seatledger.domain.provider_billing import (
    Proration,
    ProviderInvoice,
    ProviderInvoiceLine,
    ProviderItem,
    ProviderPrices,
    ProviderRefused,
    ProviderStatus,
    ProviderSubscription,
)
from seatledger.pricing.price import SeatPrice
from seatledger.pricing.recurring_items import ItemQuantities, has_base_item

T = TypeVar("T")
_PRORATION: dict[Proration, str] = {
    "invoice": "always_invoice",
    "prorate": "create_prorations",
    "none": "none",
}


async def _asked(request: Callable[[], Awaitable[T]]) -> T:
    try:
        return await call(request)
    except stripe.InvalidRequestError as error:
        raise ProviderRefused(error.user_message or str(error)) from error


def _moment(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def subscription_of(sub: Any) -> ProviderSubscription:
    """A Stripe Subscription as the engine sees it (its period is its first item's)."""
    items = tuple(
        ProviderItem(item.id, str(item.price.id), int(item.quantity or 0))
        for item in sub["items"].data
    )
    first = sub["items"].data[0] if sub["items"].data else None
    return ProviderSubscription(
        id=sub.id,
        status=cast(ProviderStatus, sub.status),
        cancel_at_period_end=bool(sub.cancel_at_period_end),
        period_start=_moment(first.current_period_start) if first else None,
        period_end=_moment(first.current_period_end) if first else None,
        items=items,
        change_pending="pending_update" in sub and sub["pending_update"] is not None,
    )


def invoice_of(invoice: Any) -> ProviderInvoice:
    """A Stripe Invoice as the engine keeps it (its subscription, as of API versions from 2025
    on, under ``parent.subscription_details`` or, in older shapes, ``subscription``)."""
    raw: dict[str, Any] = invoice.to_dict()
    subscription = raw.get("subscription")
    details = (raw.get("parent") or {}).get("subscription_details") or {}
    subscription = subscription or details.get("subscription")
    lines = tuple(
        ProviderInvoiceLine(
            description=line.get("description"),
            amount=int(line["amount"]),
            quantity=line.get("quantity"),
            proration=bool(line.get("proration", False)),
            price=_line_price(line),
        )
        for line in raw["lines"]["data"]
    )
    return ProviderInvoice(
        id=str(raw["id"]),
        subscription=None if subscription is None else str(subscription),
        number=raw.get("number"),
        status=str(raw["status"]),
        currency=str(raw["currency"]),
        total=int(raw["total"]),
        amount_paid=int(raw["amount_paid"]),
        lines=lines,
        billing_reason=raw.get("billing_reason"),
        hosted_url=raw.get("hosted_invoice_url"),
        created=_moment(raw.get("created")),
        period_start=_moment(raw.get("period_start")),
        period_end=_moment(raw.get("period_end")),
        paid_at=_moment((raw.get("status_transitions") or {}).get("paid_at")),
    )


def _line_price(line: dict[str, Any]) -> str | None:
    """The price a line bills: ``pricing.price_details.price`` from API versions of 2025 on,
    ``price`` (an id or the object) before."""
    details = (line.get("pricing") or {}).get("price_details") or {}
    price = details.get("price") or line.get("price")
    if isinstance(price, dict):
        price = price.get("id")
    return price if isinstance(price, str) else None


def _tiers(price: SeatPrice) -> Any:
    return [
        {
            "up_to": "inf" if tier.up_to is None else tier.up_to,
            "unit_amount": tier.unit_amount,
            "flat_amount": tier.flat_amount,
        }
        for tier in price.tiers
    ]


class StripeBilling:
    def __init__(self, *, secret_key: str, api_base: str, prices: ProviderPriceBook) -> None:
        self.client, self._http = make_client(secret_key, api_base)
        self.prices = prices

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]  # the SDK leaves it untyped

    async def ensure_prices(self, price_id: str, price: SeatPrice, name: str) -> ProviderPrices:
        kept = await self.prices.find(price_id)
        if kept is not None:
            return kept
        if price.interval is None:
            raise ProviderRefused("a one-time price has no subscription at Stripe")
        product = await _asked(
            lambda: self.client.v1.products.create_async(
                {"name": name, "metadata": {"seatledger_price_id": price_id}},
                {"idempotency_key": f"seatledger-product-{price_id}"},
            )
        )
        recurring: Any = {"interval": price.interval}  # the SDK's TypedDict, by its shape
        base = None
        if has_base_item(price):
            base = await _asked(
                lambda: self.client.v1.prices.create_async(
                    {
                        "product": product.id,
                        "currency": price.currency,
                        "unit_amount": price.base_amount,
                        "recurring": recurring,
                        "metadata": {"seatledger_price_id": price_id, "seatledger_item": "base"},
                    },
                    {"idempotency_key": f"seatledger-price-{price_id}-base"},
                )
            )
        seats = await _asked(
            lambda: self.client.v1.prices.create_async(
                {
                    "product": product.id,
                    "currency": price.currency,
                    "billing_scheme": "tiered",
                    "tiers_mode": price.tiers_mode,
                    "tiers": _tiers(price),
                    "recurring": recurring,
                    "metadata": {"seatledger_price_id": price_id, "seatledger_item": "seats"},
                },
                {"idempotency_key": f"seatledger-price-{price_id}-seats"},
            )
        )
        return await self.prices.remember(
            price_id, ProviderPrices(None if base is None else base.id, seats.id)
        )

    async def start_subscription(
        self,
        *,
        customer: str,
        prices: ProviderPrices,
        quantities: ItemQuantities,
        subscription_id: str,
        anchor: datetime | None = None,
        payment_method: str | None = None,
    ) -> ProviderSubscription:
        items: list[dict[str, Any]] = []
        if quantities.base and prices.base is not None:
            items.append({"price": prices.base, "quantity": 1})
        if quantities.seats > 0:
            items.append({"price": prices.seats, "quantity": quantities.seats})
        params: Any = {
            "customer": customer,
            "items": items,
            "metadata": {"seatledger_subscription_id": subscription_id},
        }
        if payment_method:
            params["default_payment_method"] = payment_method
        if anchor is not None:
            # The first period was paid at the checkout: Stripe's cycle starts when it ends,
            # with no charge for the time before.
            params.update(billing_cycle_anchor=int(anchor.timestamp()), proration_behavior="none")
        sub = await _asked(
            lambda: self.client.v1.subscriptions.create_async(
                params, {"idempotency_key": f"seatledger-subscription-{subscription_id}"}
            )
        )
        return subscription_of(sub)

    async def subscription(self, provider_id: str) -> ProviderSubscription:
        sub = await _asked(lambda: self.client.v1.subscriptions.retrieve_async(provider_id))
        return subscription_of(sub)

    async def push_quantities(
        self,
        provider_id: str,
        *,
        prices: ProviderPrices,
        quantities: ItemQuantities,
        proration: Proration,
        idempotency_key: str,
    ) -> ProviderSubscription:
        current = await self.subscription(provider_id)
        params: Any = {
            "items": _item_edits(current, prices, quantities),
            "proration_behavior": _PRORATION[proration],
        }
        if proration == "invoice":
            params["payment_behavior"] = "pending_if_incomplete"
        sub = await _asked(
            lambda: self.client.v1.subscriptions.update_async(
                provider_id, params, {"idempotency_key": idempotency_key}
            )
        )
        return subscription_of(sub)

    async def cancel_subscription(self, provider_id: str) -> ProviderSubscription:
        current = await self.subscription(provider_id)
        if current.status == "canceled":
            return current  # cancelling again changes nothing (SPEC §3)
        # SPEC §3: the prorations waiting are invoiced now; the current period is not refunded.
        params: Any = {"invoice_now": True, "prorate": False}
        sub = await _asked(lambda: self.client.v1.subscriptions.cancel_async(provider_id, params))
        return subscription_of(sub)

    async def invoice(self, provider_id: str) -> ProviderInvoice:
        found = await _asked(lambda: self.client.v1.invoices.retrieve_async(provider_id))
        return invoice_of(found)

    async def cancel_at_period_end(self, provider_id: str, flag: bool) -> ProviderSubscription:
        params: Any = {"cancel_at_period_end": flag}
        sub = await _asked(lambda: self.client.v1.subscriptions.update_async(provider_id, params))
        return subscription_of(sub)


def _item_edits(
    current: ProviderSubscription, prices: ProviderPrices, quantities: ItemQuantities
) -> list[dict[str, Any]]:
    """The ``items[]`` that take ``current`` to ``quantities`` of ``prices``: the seats item
    updated, added or deleted; items of other prices (a legacy price swapped in by hand) are
    replaced by the seats item."""
    edits: list[dict[str, Any]] = []
    seats_item = current.item_of(prices.seats)
    for item in current.items:
        if item.price not in (prices.base, prices.seats):
            edits.append({"id": item.id, "deleted": True})
    if seats_item is None and quantities.seats > 0:
        edits.append({"price": prices.seats, "quantity": quantities.seats})
    elif seats_item is not None and quantities.seats > 0:
        edits.append({"id": seats_item.id, "quantity": quantities.seats})
    elif seats_item is not None:
        edits.append({"id": seats_item.id, "deleted": True})
    if quantities.base and prices.base is not None and current.item_of(prices.base) is None:
        edits.append({"price": prices.base, "quantity": 1})
    return edits


__all__ = ["StripeBilling", "subscription_of"]
