"""Request bodies are read as JSON by this API's rules: every router's routes are ``JsonRoute``.

Python's ``json`` module takes two liberties this API does not:

* it reads ``NaN``, ``Infinity`` and ``-Infinity``, which are not JSON (RFC 8259 §6): here they
  make the body invalid JSON (400 ``invalid_json``);
* it fails on an integer longer than CPython converts from text (4,300 digits by default), and
  the whole body then reads as "not JSON". Here such an integer is read as ``±OVERSIZED``, a
  number beyond every bound the engine has, so the field's own rule refuses it by name: a seat
  count is 422 ``seats_out_of_range`` (SPEC §6), any other number 422 ``validation_error``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

# Stands for any integer too long to convert: larger than every bound of the engine (amounts
# 10^11, seat counts 10^7, free-form JSON 2^53), and still printable.
OVERSIZED = 10**100


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # the scanner matched a JSON integer: only its length can fail
        return -OVERSIZED if text.startswith("-") else OVERSIZED


def _not_json(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def parse_json(body: bytes | str) -> Any:
    """``body`` as JSON, by the rules above (``json.JSONDecodeError`` when it is not JSON)."""
    return json.loads(body, parse_int=_integer, parse_constant=_not_json)


class JsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JsonRoute(APIRoute):
    """A route whose JSON body is read with ``parse_json``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_json(request: Request) -> Response:
            return await handle(JsonRequest(request.scope, request.receive))

        return handle_json


__all__ = ["OVERSIZED", "JsonRoute", "parse_json"]
