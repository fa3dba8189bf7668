"""Opaque, time-ordered ids: ``seat_01J…``. Sorting ids sorts by creation, which cursors use."""

from __future__ import annotations

import re
import secrets
import time

from seatledger.domain.errors import NotFound

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase


def new_id(prefix: str) -> str:
    """48 bits of milliseconds then 80 random bits, in 26 base32 characters."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(chars))}"


ID_PATTERN = re.compile(r"[a-z]{1,10}_[0-9a-z]{26}")


def check_id(value: object, noun: str, *, field: str | None = None) -> str:
    """``value`` if it can be an id; else ``NotFound`` (naming ``field`` when it came in a body
    or a query): ids are opaque, so a malformed one is as unknown as a missing one."""
    if isinstance(value, str) and ID_PATTERN.fullmatch(value):
        return value
    raise NotFound(noun, field=field)
