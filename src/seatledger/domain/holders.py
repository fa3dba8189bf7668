"""Declarative holders: a pool's live seats made exactly a given set of people (SPEC §5).

    wanted emails ──normalise, collapse duplicates──▶ diff against the live seats
        assign    the wanted people without a live seat (invited, as an assignment does)
        revoke    the live seats of people not wanted
        unchanged the live seats of wanted people (pending or claimed, left as they are)

People are compared by email, case-insensitively (a seat given to a member carries the
member's address). A pool's seat count after the sync is what the single operations would
leave, applied one by one — every revocation first, then every assignment:

* a fixed pool (``seat_sync: "manual"`` or an order) keeps its seats; the wanted people must
  fit in them, else ``no_seats_available`` naming how many seats are missing;
* a ``members`` pool shrinks by one per revocation (never below the price's minimum, one seat,
  or the seats still held) and then grows by one per assignment that finds it full, up to the
  price's maximum (else ``seat_limit_reached``). In closed form:
  ``max(seats − revoked, minimum, 1, wanted)``.

The use case bills the net change as ONE seat-count change (one proration line), planned by
``seatledger.domain.billing.plan_change`` as the ``members`` mode's own changes are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seatledger.domain.email_list import read_email_list
from seatledger.domain.errors import NoSeatsAvailable, SeatLimitReached, ValidationFailed
from seatledger.domain.seat import Seat
from seatledger.pricing import MAX_SEATS

MAX_HOLDERS = 1000  # emails in one sync: a bounded transaction and answer


@dataclass(frozen=True, slots=True)
class WantedHolders:
    """The wanted people: addresses normalised, in the order first given, and the addresses
    given more than once (collapsed to one holder each, and reported)."""

    emails: tuple[str, ...]
    duplicates: tuple[str, ...]


def wanted_holders(emails: object) -> WantedHolders:
    """The list checked by the one rule for lists of addresses (``domain.email_list``): every
    bad address is named at once (``emails[i]``)."""
    if not isinstance(emails, list):
        raise ValidationFailed.field("emails", "must be a list of email addresses")
    read = read_email_list(emails, field="emails", most=MAX_HOLDERS)
    return WantedHolders(read.addresses, read.duplicates)


@dataclass(frozen=True, slots=True)
class HoldersDiff:
    assign: tuple[str, ...]  # emails, in the order given
    revoke: tuple[Seat, ...]  # live seats, oldest first
    unchanged: tuple[Seat, ...]  # live seats, in the order their emails were given

    @property
    def changed(self) -> bool:
        return bool(self.assign or self.revoke)


def holders_diff(live: Sequence[Seat], wanted: WantedHolders) -> HoldersDiff:
    """What makes the pool's ``live`` seats exactly the ``wanted`` people."""
    by_email = {seat.email.lower(): seat for seat in live}
    wanted_set = set(wanted.emails)
    return HoldersDiff(
        assign=tuple(email for email in wanted.emails if email not in by_email),
        revoke=tuple(seat for seat in live if seat.email.lower() not in wanted_set),
        unchanged=tuple(by_email[email] for email in wanted.emails if email in by_email),
    )


def seats_after(
    seats: int,
    diff: HoldersDiff,
    *,
    follows_members: bool,
    minimum: int = 1,
    maximum: int | None = None,
) -> int:
    """The pool's seat count after the sync (module docstring), or the refusal."""
    holders = len(diff.unchanged) + len(diff.assign)
    if not follows_members:
        if holders > seats:
            missing = holders - seats
            raise NoSeatsAvailable(
                f"{holders} holders need {holders} seats and {seats} are bought: "
                f"{missing} seat{'' if missing == 1 else 's'} missing."
            )
        return seats
    shrunk = max(seats - len(diff.revoke), minimum, 1)
    if holders <= shrunk:
        return shrunk
    highest = MAX_SEATS if maximum is None else maximum
    if holders > highest:
        raise SeatLimitReached(
            f"{holders} holders exceed this subscription's maximum of {highest} seats "
            f"by {holders - highest}."
        )
    return holders


__all__ = [
    "MAX_HOLDERS",
    "HoldersDiff",
    "WantedHolders",
    "holders_diff",
    "seats_after",
    "wanted_holders",
]
