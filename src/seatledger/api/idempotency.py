"""``Idempotency-Key`` on POST requests, as ASGI middleware around the routes.

The key is scoped to the credential (an API key's or a session's id; ``public`` for the public
claim routes) and the path. The request's fingerprint is the SHA-256 of its query string and
body (a JSON body in canonical form: key order and spacing do not matter). Then
``seatledger.services.idempotency`` decides: run the request and store its answer (any status
below 500: a 402 or a 409 is the answer, and replays as it was), replay a stored answer
(with ``Idempotent-Replayed: true``), or refuse with 409 ``idempotency_conflict``. A 5xx or a
crash forgets the key, so the client's retry runs again.

Requests without a valid credential are passed on untouched (the route answers 401).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seatledger.api.auth import CALLER_KEY, resolve
from seatledger.api.problems import domain_problem, problem
from seatledger.domain.errors import DomainError
from seatledger.services import idempotency
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.api")
HEADER = "idempotency-key"
PUBLIC_PREFIXES = ("/v1/claims/",)


def _valid_key(key: str) -> bool:
    return 0 < len(key) <= idempotency.MAX_KEY_LENGTH and all("\x21" <= ch <= "\x7e" for ch in key)


def fingerprint(query: bytes, body: bytes) -> str:
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ).encode()
    except (ValueError, RecursionError):
        canonical = body
    return hashlib.sha256(query + b"\n" + canonical).hexdigest()


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _valid_key(key):
            response = problem(
                422,
                "validation_error",
                "Idempotency-Key: must be 1 to 255 printable ASCII characters",
                [("Idempotency-Key", "must be 1 to 255 printable ASCII characters")],
            )
            await response(scope, receive, send)
            return
        caller = await resolve(self.runtime, headers.get("authorization"))
        scope[CALLER_KEY] = caller
        path: str = scope["path"]
        if caller is not None:
            credential = caller.credential
        elif path.startswith(PUBLIC_PREFIXES):
            credential = "public"
        else:
            await self.app(scope, receive, send)
            return
        await self._run(scope, receive, send, credential=credential, key=key)

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, *, credential: str, key: str
    ) -> None:
        body = await _read_body(receive)
        where = {"credential": credential, "path": scope["path"], "key": key}
        try:
            stored = await idempotency.begin(
                self.runtime,
                **where,
                request_hash=fingerprint(scope.get("query_string", b""), body),
            )
        except DomainError as error:
            await domain_problem(error)(scope, receive, send)
            return
        if stored is not None:
            await _replay(stored, send)
            return

        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status: int | None = None
        content_type = "application/json"
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = int(message["status"])
                content_type = Headers(raw=message.get("headers", [])).get(
                    "content-type", content_type
                )
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await self._abandon(where)
            raise
        if status is None or status >= 500:
            await self._abandon(where)
            return
        await idempotency.finish(
            self.runtime,
            **where,
            response=idempotency.StoredResponse(status, b"".join(chunks), content_type),
        )

    async def _abandon(self, where: dict[str, str]) -> None:
        """Forget the key after a server error; failing that, its lease runs out (5 minutes)."""
        try:
            await idempotency.abandon(self.runtime, **where)
        except Exception:
            log.exception("could not release Idempotency-Key %r", where["key"])


async def _replay(stored: idempotency.StoredResponse, send: Send) -> None:
    headers: list[Any] = [
        (b"content-type", stored.content_type.encode("latin-1")),
        (b"content-length", str(len(stored.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


__all__ = ["IdempotencyMiddleware", "fingerprint"]
