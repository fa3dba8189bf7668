"""The access log: one line per request — method, path, status, duration — with no secret in it.

It replaces the server's own access log, which would write invitation tokens, customer-session
tokens and signed download links to the log as they appear in URLs (SPEC §8). Redacted:

* the token segment of ``/v1/claims/{token}`` and ``/claim/{token}``;
* the values of query parameters that carry a credential: ``token`` (and any ``…token``),
  ``session``, ``signature``, ``secret``, ``key``.

Lines go to the ``seatledger.access`` logger at INFO; ``seatledger serve`` prints them.
"""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import quote, unquote_plus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("seatledger.access")

REDACTED = "[redacted]"
_TOKEN_PATH = re.compile(r"^(/v1/claims/|/claim/)[^/]+")
_SECRET_PARAMETERS = frozenset({"token", "session", "signature", "secret", "key"})


def redact(path: str, query: str = "") -> str:
    """``path`` and ``query`` (as they came, percent-encoded) with their secrets replaced."""
    path = _TOKEN_PATH.sub(lambda match: match.group(1) + REDACTED, path)
    if not query:
        return path
    parts = []
    for part in query.split("&"):
        name, equals, _ = part.partition("=")
        if equals and _is_secret(unquote_plus(name)):
            part = f"{name}={REDACTED}"
        parts.append(part)
    return f"{path}?{'&'.join(parts)}"


def _is_secret(name: str) -> bool:
    name = name.strip().lower()
    return name in _SECRET_PARAMETERS or name.endswith("token")


class AccessLog:
    """ASGI middleware writing one line per HTTP request once its answer is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: an error escaped every handler

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            if logger.isEnabledFor(logging.INFO):
                # The raw path is still percent-encoded: a line break in it cannot split the line.
                raw = scope.get("raw_path")
                path = raw.split(b"?")[0].decode("latin-1") if raw else quote(scope["path"])
                query = scope.get("query_string", b"").decode("latin-1")
                elapsed = (time.perf_counter() - started) * 1000
                logger.info(
                    "%s %s %d %.1fms", scope["method"], redact(path, query), status, elapsed
                )
