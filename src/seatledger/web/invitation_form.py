"""The "invite people" forms (the portal's pool page, the checkout's "invite your team"): what a
refused list shows. Both call ``services.invitations.invite``, which refuses a list whole and
names each bad address as ``emails[i]``; the page keeps the list as typed, marks the field and
lists every bad address under it, so the manager fixes them and sends the list again."""

from __future__ import annotations

from dataclasses import dataclass

from seatledger.domain.errors import NoSeatsAvailable
from seatledger.errors import SeatledgerError
from seatledger.services.invitations import FIELD


@dataclass(frozen=True, slots=True)
class ListRefusal:
    """``message`` goes beside the field; ``problems`` are one line per bad address."""

    message: str
    problems: tuple[str, ...]


def refusal_of(error: SeatledgerError) -> ListRefusal:
    problems = tuple(message for field, message in error.errors if field.startswith(FIELD + "["))
    if problems:
        count = "this address" if len(problems) == 1 else f"these {len(problems)} addresses"
        return ListRefusal(
            f"Nobody was invited: correct or remove {count}, then send the list again",
            problems,
        )
    whole = next((message for field, message in error.errors if field == FIELD), None)
    if whole is None or isinstance(error, NoSeatsAvailable):  # its detail says how many are free
        whole = error.detail
    whole = whole.rstrip(".")
    return ListRefusal(whole[:1].upper() + whole[1:], ())


__all__ = ["ListRefusal", "refusal_of"]
