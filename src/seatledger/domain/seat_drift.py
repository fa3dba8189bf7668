"""Seats read back from a billing provider, and the clamp (SPEC §7, seed 001's invariant).

The provider's items say what the merchant's customer pays for: ``stripe_seats``, translated
with ``pricing.recurring_items.seats_from_items`` — the base item stands for the included seats,
the seats item's quantity for the rest. An item the price book knows under another seatledger
price (a legacy price swapped in from the dashboard) translates with that price's own included
seats; an item of a price seatledger never made cannot be translated and is flagged
(``Untranslatable``): the subscription is then left as it is, and reported.

The app never believes in fewer seats than the pool has holders (pending + claimed seats):
``covered_seats = max(stripe_seats, holders)``. When the provider shows fewer, the clamp is a
drift (``SeatsDrift``): the event ``subscription.seats_drift_detected`` carries both counts, and
with push-back the covered count goes back to the provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from seatledger.domain.purchase import Subscription
from seatledger.pricing.price import SeatPrice
from seatledger.pricing.recurring_items import seats_from_items


@dataclass(frozen=True, slots=True)
class ReadItem:
    """A provider item, known: the seatledger price it was made for, and its role."""

    role: Literal["base", "seats"]
    price: SeatPrice
    quantity: int


@dataclass(frozen=True, slots=True)
class Untranslatable(Exception):
    """An item of a price seatledger does not know: no seat count can be read from it."""

    provider_price: str


def stripe_seats(items: Sequence[ReadItem]) -> int:
    """The seats the provider's items pay for."""
    total = 0
    for item in items:
        if item.role == "base":
            total += seats_from_items(item.price, base=item.quantity > 0, seats_quantity=0)
        else:
            total += seats_from_items(item.price, base=False, seats_quantity=item.quantity)
    return total


@dataclass(frozen=True, slots=True)
class Capacity:
    stripe_seats: int
    holders: int

    @property
    def covered_seats(self) -> int:
        return max(self.stripe_seats, self.holders, 1)

    @property
    def clamped(self) -> bool:
        return self.stripe_seats < self.holders


@dataclass(frozen=True, slots=True)
class SeatsDrift:
    """The event ``subscription.seats_drift_detected``'s subject."""

    subscription: Subscription
    seats: int  # what the subscription pays for at the provider (= stripe_seats)
    assigned_seats: int  # the pool's holders (= holders)
    stripe_seats: int
    covered_seats: int
    holders: int


def drift(subscription: Subscription, capacity: Capacity) -> SeatsDrift:
    return SeatsDrift(
        subscription=subscription,
        seats=capacity.stripe_seats,
        assigned_seats=capacity.holders,
        stripe_seats=capacity.stripe_seats,
        covered_seats=capacity.covered_seats,
        holders=capacity.holders,
    )


__all__ = ["Capacity", "ReadItem", "SeatsDrift", "Untranslatable", "drift", "stripe_seats"]
