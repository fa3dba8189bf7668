"""Stripe's wire format: form bodies with nested keys, error objects, list objects, expand.

Stripe's v1 API takes ``application/x-www-form-urlencoded`` bodies whose keys nest with
brackets (``line_items[0][price_data][currency]=usd``, ``expand[]=payment_intent``) and answers
JSON. Errors are ``{"error": {"type", "code", "decline_code", "message", "param"}}`` with the
status Stripe documents: 400 invalid request, 401 bad key, 402 card errors, 404 missing
object, 429 rate limit, 500 API error.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class StripeError(Exception):
    """An error answer: raised by a resource, turned into Stripe's error object."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type_, "message": message}
        for name, value in (("code", code), ("decline_code", decline_code), ("param", param)):
            if value is not None:
                self.body[name] = value
        self.body.update(extra or {})

    def answer(self) -> dict[str, Any]:
        return {"error": self.body}


def missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def invalid(message: str, param: str | None = None, code: str | None = None) -> StripeError:
    return StripeError(400, "invalid_request_error", message, param=param, code=code)


def _split(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    return [head, *_KEY_PART.findall("[" + rest)] if rest else [head]


def _lists(node: Any) -> Any:
    """Dicts whose keys are all ``0, 1, …`` (or one ``""`` run) become lists."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def decode_form(body: bytes) -> dict[str, Any]:
    """``a[b][0][c]=v&expand[]=x`` → ``{"a": {"b": [{"c": "v"}]}, "expand": ["x"]}``."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body.decode(), keep_blank_values=True):
        parts = _split(key)
        node = root
        for index, part in enumerate(parts):
            name = str(len(node)) if part == "" else part  # ``expand[]``: the next item
            if index == len(parts) - 1:
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid nested key: {key}", param=key)
            node = child
    converted: dict[str, Any] = _lists(root)
    return converted


def decode_query(query: str) -> dict[str, Any]:
    return decode_form(query.encode())


def flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise invalid(f"Invalid boolean: {value}", param=name)


def integer(params: dict[str, Any], name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None:
        if required:
            raise invalid(f"Missing required param: {name}.", param=name)
        return None
    if not isinstance(value, str) or not value.lstrip("-").isdigit():
        raise invalid(f"Invalid integer: {value}", param=name)
    return int(value)


def list_object(url: str, data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "url": url, "has_more": False, "data": data}
