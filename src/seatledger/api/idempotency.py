"""``Idempotency-Key`` on POST (and PUT and PATCH) requests, as ASGI middleware around the routes.

PATCH takes a key too: a subscription change with ``invoice`` behaviour charges a card, and a
retry of it after a crash must send the charge under the same provider key (it plans at the
first run's instant, ``seatledger.services.idempotency.recovery_point``). PUT takes one too: a
declarative sync of a pool's holders (``PUT …/holders``) hands out invitations once.

The key is scoped to the credential (an API key's or a session's id) and the path. A public
claim (``/v1/claims/{token}``) has no credential: its key is scoped to the token's hash, so a
replay needs the token, and neither the token nor the path holding it is stored.

The request's fingerprint is the SHA-256 of its query string and body (a JSON body in canonical
form: key order and spacing do not matter). ``seatledger.services.idempotency`` then decides:
replay a stored answer (with ``Idempotent-Replayed: true``), refuse with 409
``idempotency_conflict`` (another request under this key, or the same one still running in
this process), or run the request. A run's commits are held (``seatledger.adapters.db.
unit_of_work``); its answer (any status below 500: a 402 or a 409 is the answer, and replays as
it was) is kept back from the client until it is stored in the same transaction as the work and
committed. A 5xx rolls the held work back, so the client's retry runs again.

Secrets are never stored, hence never replayed. A route whose answer holds one (an invitation's
token, a session token, a grant's properties) gives the form to store with ``store_for_replay``;
a replay sends that form with ``Idempotent-Withheld`` naming the fields left out:

* assign and resend (``POST /v1/seats``, ``…/resend``): ``invitation`` is null in a replay
  (the token is shown once, SPEC §5); resending gives a new one;
* ``POST /v1/customer-sessions``: ``token`` and ``portal_url`` are null; create another;
* claims: ``session_token`` is null and each grant's ``properties`` are empty. Whoever retries
  a claim with its (now used) token and key learns that the claim happened and what it granted,
  never a credential or a license: a used invitation link and a guessable key must not open a
  session (a used token opens nothing, SPEC §5). The claimer signs in through the merchant.

Requests without a valid credential are passed on untouched (the route answers 401).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from seatledger.api.auth import CALLER_KEY, resolve
from seatledger.api.problems import domain_problem
from seatledger.domain.errors import IdempotencyConflict, SeatledgerError, ValidationFailed
from seatledger.services import idempotency
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.api")
HEADER = "idempotency-key"
METHODS = ("POST", "PUT", "PATCH")
CLAIMS = "/v1/claims/"
# Where a route leaves the form of its answer to store (see ``store_for_replay``).
REPLAY_FORM_KEY = "seatledger.replay_form"


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


@dataclass
class _ReplayForm:
    body: bytes
    withheld: str


def store_for_replay(scope: MutableMapping[str, Any], model: BaseModel, withheld: str) -> None:
    """The answer to store for replays of this request, when the one sent holds secrets:
    ``model`` without them, ``withheld`` naming the fields left out."""
    body = JSONResponse(model.model_dump(mode="json")).body
    scope[REPLAY_FORM_KEY] = _ReplayForm(bytes(body), withheld)


def _claim_slot(path: str, key: str) -> idempotency.Slot:
    token = path[len(CLAIMS) :]
    digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()
    return idempotency.Slot(f"claim:{digest}", CLAIMS + "{token}", key)


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
        self._running: set[idempotency.Slot] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not _valid_key(key):
            response = domain_problem(
                ValidationFailed.field(
                    "Idempotency-Key", "must be 1 to 255 printable ASCII characters"
                )
            )
            await response(scope, receive, send)
            return
        if CALLER_KEY in scope:  # the request gate resolved it before the body was read
            caller = scope[CALLER_KEY]
        else:
            caller = scope[CALLER_KEY] = await resolve(self.runtime, headers.get("authorization"))
        path: str = scope["path"]
        if path.startswith(CLAIMS):  # the token is the credential, whoever else calls
            slot = _claim_slot(path, key)
        elif caller is not None:
            slot = idempotency.Slot(caller.credential, path, key)
        else:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        request_hash = fingerprint(scope.get("query_string", b""), body)
        if slot in self._running:
            await self._refuse(scope, receive, send)
            return
        self._running.add(slot)
        try:
            await self._run(scope, receive, send, slot, request_hash, body)
        finally:
            self._running.discard(slot)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = IdempotencyConflict("The first request with this Idempotency-Key is still running.")
        await domain_problem(error)(scope, receive, send)

    async def _run(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        slot: idempotency.Slot,
        request_hash: str,
        body: bytes,
    ) -> None:
        try:
            found = await idempotency.look_up(self.runtime, slot, request_hash)
        except SeatledgerError as error:
            await domain_problem(error)(scope, receive, send)
            return
        if found is not None and found.response is not None:
            await _replay(found.response, send)
            return

        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        # The answer waits until it is stored with the work: the client never hears of work
        # that a crash could still undo.
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        async with idempotency.keyed(self.runtime, slot, request_hash, found) as request:
            scope.pop(REPLAY_FORM_KEY, None)
            await self.app(scope, replay_receive, keep)
            answer = _answer(messages, scope.pop(REPLAY_FORM_KEY, None))
            if answer is not None:
                try:
                    instead = await request.record(answer)
                except SeatledgerError as error:
                    await domain_problem(error)(scope, receive, send)
                    return
                if instead is not None:
                    await _replay(instead, send)
                    return
        for message in messages:
            await send(message)


def _answer(messages: list[Message], form: _ReplayForm | None) -> idempotency.StoredResponse | None:
    """The answer to store: None for a server error (nothing is kept; a retry runs again)."""
    status: int | None = None
    content_type = "application/json"
    chunks: list[bytes] = []
    for message in messages:
        if message["type"] == "http.response.start":
            status = int(message["status"])
            content_type = Headers(raw=message.get("headers", [])).get("content-type", content_type)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
    if status is None or status >= 500:
        return None
    if form is not None and status < 300:
        return idempotency.StoredResponse(status, form.body, content_type, form.withheld)
    return idempotency.StoredResponse(status, b"".join(chunks), content_type)


async def _replay(stored: idempotency.StoredResponse, send: Send) -> None:
    headers: list[Any] = [
        (b"content-type", stored.content_type.encode("latin-1")),
        (b"content-length", str(len(stored.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    if stored.withheld:
        headers.append((b"idempotent-withheld", stored.withheld.encode("latin-1")))
    await send({"type": "http.response.start", "status": stored.status, "headers": headers})
    await send({"type": "http.response.body", "body": stored.body, "more_body": False})


__all__ = ["IdempotencyMiddleware", "fingerprint", "store_for_replay"]
