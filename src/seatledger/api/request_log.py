"""One log line and one observation per HTTP request (SPEC §8), replacing the server's access log.

The outermost middleware: it times the whole answer, gives the request its id and, once the
answer is sent, writes the ``request`` line to ``seatledger.request`` and counts the request in
``seatledger.observability.metrics``. Fields:

* ``request_id``: the caller's ``X-Request-Id`` when it is sane (1 to 128 of ``A–Z a–z 0–9 . _
  : -``), else a new one; answered in the ``X-Request-Id`` header either way, so a client's
  report and the server's line meet;
* ``method``, ``route`` (the template, ``/v1/seats/{seat_id}``: no id, no token), ``path``
  (the path as it came, percent-encoded, so a line break in it cannot split the line; its
  secrets go in the one redaction processor, ``seatledger.observability.logs``), ``status``,
  ``duration_ms``;
* ``caller``: ``key`` (an API key), ``session`` (a customer session) or ``none``, as the
  routes resolved it.

Metrics take the route template only: a raw path would make one series per object. A path no
route serves counts as ``unmatched``.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seatledger.api.auth import CALLER_KEY
from seatledger.observability import logs, metrics

log = logs.get_logger("seatledger.request")

HEADER = b"x-request-id"
REQUEST_ID_KEY = "seatledger.request_id"
UNMATCHED = "unmatched"
_SANE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id(scope: Scope) -> str:
    """The caller's ``X-Request-Id`` when sane, else a new random one."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text: str = value.decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request, or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


def caller_kind(scope: Scope) -> str:
    caller: Any = scope.get(CALLER_KEY)
    if caller is None:
        return "none"
    return "session" if caller.session is not None else "key"


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    path = raw.split(b"?")[0].decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class RequestLog:
    """ASGI middleware: request id in, ``X-Request-Id`` out, one line and one observation."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = scope[REQUEST_ID_KEY] = request_id(scope)
        status = 500  # unless an answer starts: an error escaped every handler

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [*message.get("headers", ()), (HEADER, rid.encode("latin-1"))]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            metrics.request_answered(scope["method"], route, status, elapsed)
            log.info(
                "request",
                request_id=rid,
                method=scope["method"],
                route=route,
                path=_raw_path(scope),
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                caller=caller_kind(scope),
            )


__all__ = ["HEADER", "REQUEST_ID_KEY", "RequestLog", "caller_kind", "request_id", "route_template"]
