"""What a request must pass before its body is read: a size cap, then a credential.

Reading a body whole before refusing it lets one client fill the server's memory (a 100 MB
body, read and parsed, only to answer 401) and slow every other request. So, outside every
other middleware but the request log:

1. **Size.** A body larger than its route kind allows is 413 ``payload_too_large``: at once
   when ``Content-Length`` says so, without reading a byte; otherwise (a chunked body) as soon
   as the bytes read pass the cap, whoever was reading them (a route, the idempotency
   middleware, a multipart parser). Caps: ``UPLOAD_LIMIT`` for file uploads (the largest file
   ``seatledger.services.catalog.files`` stores, plus the multipart envelope), ``JSON_LIMIT``
   for everything else.
2. **Credential.** A request with a body to a ``/v1`` route that needs a credential is
   authenticated before its body is read: without a valid one it is 401 ``unauthenticated``,
   the body unread. The caller found is left in the scope (``auth.CALLER_KEY``), so it is
   resolved once. Public routes (claims, the payment provider's webhooks) and the web pages
   (their own cookies and forms) are only capped.

The server closes a connection whose request body it did not read, so the unread bytes are
never buffered.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seatledger.api.auth import CALLER_KEY
from seatledger.api.problems import domain_problem, problem
from seatledger.domain.errors import Unauthenticated
from seatledger.services.callers import resolve
from seatledger.services.catalog.files import MAX_FILE_SIZE
from seatledger.services.runtime import Runtime

JSON_LIMIT = 1024 * 1024  # 1 MiB: the largest product with its tiers is a few kB
UPLOAD_LIMIT = MAX_FILE_SIZE + 64 * 1024  # the file and its multipart envelope
UPLOAD_PATHS = frozenset({"/v1/files"})
# /v1 routes anyone may call with a body: the token or the provider's signature is the
# credential, checked by the route.
PUBLIC_PREFIXES = ("/v1/claims/", "/v1/stripe/")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body passes its cap: FastAPI lets an ``HTTPException``
    through its body reading, and its handler answers 413 ``payload_too_large``."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="The body is too large.")


def limit_of(path: str) -> int:
    return UPLOAD_LIMIT if path.rstrip("/") in UPLOAD_PATHS else JSON_LIMIT


def _too_large(limit: int) -> str:
    return f"The body is larger than this route takes ({limit} bytes at most)."


def _needs_credential(path: str) -> bool:
    return path.startswith("/v1/") and not path.startswith(PUBLIC_PREFIXES)


class RequestGate:
    """ASGI middleware: the size cap and the credential check (module docstring)."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        chunked = "transfer-encoding" in headers
        if length is None and not chunked:
            await self.app(scope, receive, send)  # no body at all
            return
        path: str = scope["path"]
        limit = limit_of(path)
        declared = int(length) if length is not None and length.isdigit() else None
        if declared is not None and declared > limit:
            await problem(413, "payload_too_large", _too_large(limit))(scope, receive, send)
            return
        if declared != 0 and _needs_credential(path) and CALLER_KEY not in scope:
            caller = await resolve(self.runtime, headers.get("authorization"))
            if caller is None:
                await domain_problem(Unauthenticated())(scope, receive, send)
                return
            scope[CALLER_KEY] = caller
        await self._capped(scope, receive, send, limit)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        read = 0
        started = False

        async def capped_receive() -> Message:
            nonlocal read
            message = await receive()
            if message["type"] == "http.request":
                read += len(message.get("body", b""))
                if read > limit:
                    raise BodyTooLarge()
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, capped_receive, watch)
        except BodyTooLarge:
            if started:
                raise
            await problem(413, "payload_too_large", _too_large(limit))(scope, receive, send)


__all__ = ["JSON_LIMIT", "UPLOAD_LIMIT", "BodyTooLarge", "RequestGate", "limit_of"]
