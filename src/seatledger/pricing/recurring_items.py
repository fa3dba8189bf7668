"""A seat price as a billing provider's recurring items, and seats read back from them.

A provider that bills subscriptions itself (Stripe Billing) prices each item of a subscription
on its own: ``quantity × price``. A seat price becomes at most two items:

* the **base item** — a flat price of ``base_amount`` at quantity 1 — when the price has a base
  fee or included seats; its presence stands for the ``included_seats``;
* the **seats item** — a tiered price with the seat price's own tiers and mode — at quantity
  ``billable = seats − included_seats``. The tiers need no shift: their bounds already count
  billable seats (SPEC §2), and so do the provider's tiers count the item's quantity.

``billable == 0`` costs nothing in seatledger, while a tiered price at quantity 0 still charges
its first tier's flat amount at Stripe; so at 0 billable seats the seats item is absent
(``ItemQuantities.seats == 0`` means "no seats item"), never kept at quantity 0.

Reading back: ``seats = included_seats (base item present) + seats item quantity``. What the
provider shows is what the merchant pays for; whether the app believes it is the clamp's
business (``seatledger.domain.seat_drift``).
"""

from __future__ import annotations

from dataclasses import dataclass

from seatledger.pricing.price import SeatPrice


@dataclass(frozen=True, slots=True)
class ItemQuantities:
    """What a subscription of ``seats`` seats holds at the provider."""

    base: bool  # the base item, at quantity 1
    seats: int  # the seats item's quantity; 0 = no seats item


def has_base_item(price: SeatPrice) -> bool:
    return price.base_amount > 0 or price.included_seats > 0


def quantities(price: SeatPrice, seats: int) -> ItemQuantities:
    """The items that bill ``seats`` seats of ``price``."""
    return ItemQuantities(has_base_item(price), max(0, seats - price.included_seats))


def seats_from_items(price: SeatPrice, *, base: bool, seats_quantity: int) -> int:
    """The seats the provider's items pay for: the included seats when the base item is there,
    plus the seats item's quantity."""
    return (price.included_seats if base else 0) + max(0, seats_quantity)


__all__ = ["ItemQuantities", "has_base_item", "quantities", "seats_from_items"]
