"""Free-form JSON a merchant stores (a seat's ``metadata``, an ``access_grant`` benefit's
``properties``) and later reads back in answers, events and emails.

Bounded so that whatever is stored can always be answered:

* at most ``MAX_DEPTH`` (32) levels of objects and arrays, the value itself being the first;
* at most ``MAX_BYTES`` (16 KiB) as compact UTF-8 JSON;
* plain JSON only: objects with string keys, arrays, strings, booleans, null, integers within
  ±2^53 (what every JSON reader keeps exact) and finite numbers;
* strings and keys without NUL characters or unpaired surrogates (no database stores them).

``json_problem`` names the first place that breaks a rule as a path below the value
(``("roles", 0, "name")``); ``check_json`` raises it as a ``ValidationFailed`` naming the field
(``properties.roles[0].name``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from seatledger.domain.errors import ValidationFailed

MAX_DEPTH = 32
MAX_BYTES = 16 * 1024
MAX_INTEGER = 2**53

Location = tuple[str | int, ...]


def json_depth(value: object) -> int:
    """Levels of objects and arrays in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "must not contain unpaired surrogates"
    return None


def _scalar_problem(value: object) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            return "must be an integer between -2^53 and 2^53"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number"
    return "must be a JSON value (object, array, string, number, boolean or null)"


def json_problem(value: object) -> tuple[Location, str] | None:
    """The first place in ``value`` that breaks a rule above, and why; None when none does.
    Depth and size are the whole value's (location ``()``)."""
    stack: list[tuple[object, Location]] = [(value, ())]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict | list):
            if len(where) >= MAX_DEPTH:
                return (), f"must not nest objects and arrays deeper than {MAX_DEPTH} levels"
            if isinstance(item, list):
                stack.extend((child, (*where, i)) for i, child in reversed(list(enumerate(item))))
                continue
            entries = list(item.items())
            for key, _ in entries:
                if not isinstance(key, str):
                    return where, "keys must be strings"
                if (problem := _text_problem(key)) is not None:
                    return where, f"keys {problem}"
            stack.extend((child, (*where, key)) for key, child in reversed(entries))
        elif (problem := _scalar_problem(item)) is not None:
            return where, problem
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_BYTES:
        return (), f"must be at most {MAX_BYTES // 1024} KiB as JSON"
    return None


def dotted(field: str, where: Sequence[str | int]) -> str:
    """``dotted("properties", ("roles", 0, "name"))`` → ``properties.roles[0].name``."""
    name = field
    for part in where:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def check_json(value: object, field: str) -> None:
    """``ValidationFailed`` naming the first place in ``value`` that breaks a rule above."""
    found = json_problem(value)
    if found is not None:
        where, problem = found
        raise ValidationFailed.field(dotted(field, where), problem)


__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_INTEGER",
    "check_json",
    "dotted",
    "json_depth",
    "json_problem",
]
