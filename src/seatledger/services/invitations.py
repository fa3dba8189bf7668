"""Inviting several people at once: a list of addresses, one seat assigned to each (SPEC §5).

The list is read whole first: one address that is not an address refuses the whole list, and
nothing is assigned. A pool that cannot hold them all (fewer free seats than addresses, and the
pool does not grow with its members) refuses the whole list too. Each address is then assigned
through ``seats.assign_seat``, one use case each, so every rule of a single assignment holds
(an address that already holds a seat is refused on its own, the others are invited), and each
invitation email leaves through the outbox as a single assignment's does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import NoSeatsAvailable, ValidationFailed
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef
from seatledger.errors import SeatledgerError
from seatledger.services import seats
from seatledger.services.catalog.prices import get_price
from seatledger.services.runtime import Runtime

MAX_ADDRESSES = 100
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class Invited:
    """What became of a list: the seats assigned, and the addresses refused with the reason."""

    seats: tuple[Seat, ...]
    refused: tuple[tuple[str, str], ...]


def parse_addresses(text: object, *, field: str = "emails") -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines, lowercased, each once,
    in the order given. ``ValidationFailed`` naming ``field`` for an empty list, one that is
    too long, or an entry that is not an address (quoted back)."""
    if not isinstance(text, str):
        raise ValidationFailed.field(field, "must be a list of email addresses")
    entries = [entry for entry in _SEPARATORS.split(text) if entry]
    if not entries:
        raise ValidationFailed.field(field, "give at least one email address")
    if len(entries) > MAX_ADDRESSES:
        raise ValidationFailed.field(field, f"give at most {MAX_ADDRESSES} addresses at once")
    addresses: list[str] = []
    for entry in entries:
        try:
            address = normalize_email(entry, field=field)
        except ValidationFailed:
            shown = entry if len(entry) <= 60 else entry[:57] + "..."
            raise ValidationFailed.field(field, f"{shown!r} is not an email address") from None
        if address not in addresses:
            addresses.append(address)
    return addresses


async def invite(
    rt: Runtime, ref: PoolRef, text: object, *, scope_company_id: str | None = None
) -> Invited:
    """Assign a seat of the pool ``ref`` to each address in ``text`` (``parse_addresses``), an
    invitation email to each. ``NotFound`` for a pool outside ``scope_company_id``."""
    addresses = parse_addresses(text)
    pool = await seats.get_pool(rt, ref, scope_company_id=scope_company_id)
    price = await get_price(rt, pool.price_id)
    if price.seat_price.seat_sync != "members" and len(addresses) > pool.available_seats:
        free = pool.available_seats
        raise NoSeatsAvailable(
            f"{free} of {pool.seats} seats are free, for {len(addresses)} addresses:"
            " invite fewer people, or buy more seats."
        )
    assigned: list[Seat] = []
    refused: list[tuple[str, str]] = []
    for address in addresses:
        try:
            seat = await seats.assign_seat(
                rt,
                subscription_id=ref.id if ref.kind == "subscription" else None,
                order_id=ref.id if ref.kind == "order" else None,
                email=address,
                scope_company_id=scope_company_id,
            )
        except SeatledgerError as error:
            refused.append((address, error.detail))
        else:
            assigned.append(seat)
    return Invited(seats=tuple(assigned), refused=tuple(refused))


__all__ = ["MAX_ADDRESSES", "Invited", "invite", "parse_addresses"]
