"""Inviting several people at once: a list of addresses, one seat assigned to each (SPEC §5).

The one rule for every form that invites a list (the portal's pool page, the checkout's
"invite your team"): the whole list is checked before anything is assigned, and a list with
any bad address is refused whole, naming every bad address, so that sending the form again
(after a fix, or twice by accident) never invites anyone twice or leaves half a list behind.
An address is bad when it is not an address (``validation_error``, 422) or when it already
holds a seat of the pool (``already_assigned``, 409: a resubmitted list is refused, not
repeated). A pool that may not assign (``company_required``, ``order_not_paid``, …) or cannot
hold the whole list (fewer free seats than addresses, and the pool does not grow with its
members: ``no_seats_available``) refuses it too. A refusal's ``errors`` name each bad address
as ``emails[i]``, ``i`` its position in the list as typed (from 0), with a message that quotes
it; what concerns the whole list is named ``emails``. How a list is read (normalised, each
address once, every bad entry named) is the one rule of ``seatledger.domain.email_list``, which
the declarative holders follow too.

Only then is each address assigned through ``seats.assign_seat``, one use case each, so every
rule of a single assignment holds and each invitation email leaves through the outbox as a
single assignment's does. What another request changes meanwhile (a seat taken between the
check and the assignment) can still refuse an address: it is reported in ``Invited.refused``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seatledger.domain.email_list import read_email_list
from seatledger.domain.errors import AlreadyAssigned, NoSeatsAvailable, NotFound, ValidationFailed
from seatledger.domain.seat import Seat
from seatledger.domain.seat_pool import PoolRef, SeatPool
from seatledger.errors import SeatledgerError
from seatledger.services import seats
from seatledger.services.catalog.prices import get_price
from seatledger.services.runtime import Runtime

MAX_ADDRESSES = 100
FIELD = "emails"
_SEPARATORS = re.compile(r"[,;\s]+")


@dataclass(frozen=True, slots=True)
class Invited:
    """What became of a list: the seats assigned, and the addresses another request's change
    refused between the check and the assignment (with the reason)."""

    seats: tuple[Seat, ...]
    refused: tuple[tuple[str, str], ...]


def _read(text: object, field: str) -> list[tuple[int, str]]:
    """Each address once with the position it was first typed at (``parse_addresses``)."""
    if not isinstance(text, str):
        raise ValidationFailed.field(field, "must be a list of email addresses")
    entries = [entry for entry in _SEPARATORS.split(text) if entry]
    read = read_email_list(entries, field=field, most=MAX_ADDRESSES, least=1)
    return list(zip(read.positions, read.addresses, strict=True))


def parse_addresses(text: object, *, field: str = FIELD) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines, lowercased, each once,
    in the order given. ``ValidationFailed`` naming ``field`` for an empty list or one that is
    too long, and ``field[i]`` for each entry ``i`` (from 0, as typed) that is not an address,
    quoted back."""
    return [address for _, address in _read(text, field)]


async def _checked_pool(
    rt: Runtime, ref: PoolRef, read: list[tuple[int, str]], scope_company_id: str | None
) -> SeatPool:
    """The pool, once the whole list may be assigned to it (else the error naming why)."""
    addresses = [address for _, address in read]
    async with rt.reading() as uow:
        pool = await uow.pools.get(ref, scope_company_id=scope_company_id)
        holders = await uow.seats.holders_in(ref.id, addresses) if pool is not None else set()
    if pool is None:
        raise NotFound(ref.noun, field=ref.field)
    pool.check_assignable()
    if holders:
        held = [
            (f"{FIELD}[{position}]", f"{address} already holds a seat of this {ref.kind}")
            for position, address in read
            if address in holders
        ]
        raise AlreadyAssigned("; ".join(message for _, message in held), errors=held)
    price = await get_price(rt, pool.price_id)
    if price.seat_price.seat_sync != "members" and len(addresses) > pool.available_seats:
        free = pool.available_seats
        raise NoSeatsAvailable(
            f"{free} of {pool.seats} seats are free, for {len(addresses)} addresses:"
            " invite fewer people, or buy more seats.",
            errors=[(FIELD, f"{len(addresses)} addresses for {free} free seats")],
        )
    return pool


async def invite(
    rt: Runtime, ref: PoolRef, text: object, *, scope_company_id: str | None = None
) -> Invited:
    """Assign a seat of the pool ``ref`` to each address in ``text`` (``parse_addresses``), an
    invitation email to each, once the whole list is found good (module docstring).
    ``NotFound`` for a pool outside ``scope_company_id``."""
    read = _read(text, FIELD)
    await _checked_pool(rt, ref, read, scope_company_id)
    assigned: list[Seat] = []
    refused: list[tuple[str, str]] = []
    for _, address in read:
        try:
            seat = await seats.assign_seat(
                rt,
                subscription_id=ref.id if ref.kind == "subscription" else None,
                order_id=ref.id if ref.kind == "order" else None,
                email=address,
                scope_company_id=scope_company_id,
            )
        except SeatledgerError as error:
            if not assigned and not refused:
                raise  # nothing happened yet: the list is refused whole, as checked
            refused.append((address, error.detail))
        else:
            assigned.append(seat)
    return Invited(seats=tuple(assigned), refused=tuple(refused))


__all__ = ["FIELD", "MAX_ADDRESSES", "Invited", "invite", "parse_addresses"]
