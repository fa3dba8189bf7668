"""A list of email addresses given at once: the one rule every list of people follows.

Both the declarative holders (``PUT …/holders``, a JSON list) and the invitation forms (text
split at commas, semicolons and white space) read their lists here, so a list means the same
wherever it is typed:

* every entry is normalised as a single address is (``normalize_email``: lowercased);
* an address given more than once counts once, at the position it was first given, and is
  reported among the ``duplicates``;
* every entry that is not an address is named at once, as ``field[i]`` with ``i`` its
  position as given (from 0), with a message quoting it back (long entries shortened); the
  list is refused whole (``ValidationFailed``), whatever else it holds;
* a list longer than its caller's bound, or shorter than its least length, is refused naming
  ``field`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from seatledger.domain.emails import normalize_email
from seatledger.domain.errors import ValidationFailed

_SHOWN = 60  # characters of a bad entry quoted back before it is shortened


@dataclass(frozen=True, slots=True)
class EmailList:
    """The addresses, normalised and each once in the order first given, with the position
    each was first given at, and the addresses given more than once."""

    addresses: tuple[str, ...]
    positions: tuple[int, ...]
    duplicates: tuple[str, ...]


def _shown(entry: object) -> str:
    if not isinstance(entry, str):
        return repr(entry)
    return repr(entry if len(entry) <= _SHOWN else entry[: _SHOWN - 3] + "...")


def read_email_list(
    entries: Sequence[object], *, field: str, most: int, least: int = 0
) -> EmailList:
    """``entries`` read by the module's rule, or the ``ValidationFailed`` naming every problem."""
    if len(entries) > most:
        raise ValidationFailed.field(field, f"give at most {most} addresses at once")
    if len(entries) < least:
        wanted = "one email address" if least == 1 else f"{least} email addresses"
        raise ValidationFailed.field(field, f"give at least {wanted}")
    first: dict[str, int] = {}
    duplicates: dict[str, None] = {}
    bad: list[tuple[str, str]] = []
    for position, entry in enumerate(entries):
        try:
            address = normalize_email(entry, field=field)
        except ValidationFailed:
            bad.append((f"{field}[{position}]", f"{_shown(entry)} is not an email address"))
            continue
        if address in first:
            duplicates[address] = None
        else:
            first[address] = position
    if bad:
        raise ValidationFailed("; ".join(message for _, message in bad), errors=bad)
    return EmailList(tuple(first), tuple(first.values()), tuple(duplicates))


__all__ = ["EmailList", "read_email_list"]
