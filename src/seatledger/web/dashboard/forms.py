"""Reading submitted forms: every value a string (a file or a missing field is ""), so that
no input can reach a service as something it did not expect."""

from __future__ import annotations

from starlette.datastructures import FormData

MAX_FIELD = 10_000


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def fields(form: FormData, name: str) -> list[str]:
    return [value[:MAX_FIELD] if isinstance(value, str) else "" for value in form.getlist(name)]


def whole_number(text: str) -> int | str:
    """An integer when ``text`` is one (ASCII digits, an optional minus sign), else the text
    itself: the service then says what is wrong with it."""
    stripped = text.strip()
    body = stripped[1:] if stripped.startswith("-") else stripped
    if body.isascii() and body.isdigit() and len(body) <= 18:
        return int(stripped)
    return stripped


__all__ = ["field", "fields", "whole_number"]
