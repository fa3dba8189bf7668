"""The seat alerts' form, as the portal and the dashboard share it: one text field of
comma-separated percents per product, read into the list the API takes, and a refusal worded
for the page while naming the API's field and code.

``80, 100`` is ``[80, 100]``; a ``%`` after a number is allowed and blanks between commas are
ignored, so an empty field removes the thresholds. Anything else that is not a whole number is
refused as the API refuses it (``validation_error`` naming ``thresholds[i]``); the rest of the
rule (1–100, distinct, at most five) is the service's own (``domain.seat_alerts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seatledger.domain.errors import ValidationFailed
from seatledger.errors import SeatledgerError

# ASCII digits only (``int()`` would take "８０" or "8_0"), short enough that the range check,
# not Python, refuses a huge one.
_PERCENT = re.compile(r"([0-9]{1,6})\s*%?")
_ITEM = re.compile(r"thresholds\[([0-9]+)\]")
_MESSAGE = "an integer from 1 to 100"


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the page says beside the field, with the API's field and code for the record."""

    message: str
    field: str
    code: str


def items_of(text: str) -> list[str]:
    """The entries typed, in order, blanks left out."""
    return [item.strip() for item in text.split(",") if item.strip()]


def thresholds_of(text: str) -> list[int]:
    """The thresholds typed, in the order typed (the service sorts and checks them)."""
    thresholds = []
    for index, item in enumerate(items_of(text)):
        found = _PERCENT.fullmatch(item)
        if found is None:
            raise ValidationFailed.field(f"thresholds[{index}]", _MESSAGE)
        thresholds.append(int(found.group(1)))
    return thresholds


def refusal_of(error: SeatledgerError, text: str) -> Refusal:
    """The first of ``error``'s fields, worded with the entry it names: "Threshold 2 (101):
    an integer from 1 to 100."."""
    field, message = error.errors[0] if error.errors else ("thresholds", error.detail)
    items = items_of(text)
    named = _ITEM.fullmatch(field)
    if named is not None and int(named.group(1)) < len(items):
        index = int(named.group(1))
        label = f"Threshold {index + 1} ({items[index]})"
    else:
        label = "Thresholds"
    return Refusal(f"{label}: {message}.", field, error.code)


__all__ = ["Refusal", "items_of", "refusal_of", "thresholds_of"]
