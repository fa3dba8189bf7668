"""The fake's ASGI app: authentication, the test knobs, idempotency keys and ``expand[]``
around the resource modules' handlers.

* A request without ``Authorization: Bearer sk_test_…`` is 401 (the ``/_fake/`` test routes
  need none: they stand for the customer on Stripe's pages).
* ``Idempotency-Key`` (POST): the same key with the same parameters answers the first answer
  again (``Idempotent-Replayed: true``), without running the request; with other parameters
  it is 400 ``idempotency_error``. Answers are kept once the request ran, errors included
  (a 402 decline replays), as Stripe keeps them.
* ``expand[]=field`` replaces an id in the answer by its object.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.stripe import (
    checkout_sessions,
    customers,
    events,
    invoices,
    payment_intents,
    payment_methods,
    prices,
    subscriptions,
)
from tests.fakes.stripe.state import IdempotentAnswer, Store
from tests.fakes.stripe.wire import StripeError, decode_form, decode_query

Handler = Callable[[Store, dict[str, Any], dict[str, str]], dict[str, Any]]
RESOURCES = (
    customers,
    payment_methods,
    payment_intents,
    checkout_sessions,
    events,
    prices,
    subscriptions,
    invoices,
)

_KNOB_ERRORS = {
    429: StripeError(
        429,
        "invalid_request_error",
        "Too many requests hit the API too quickly.",
        code="rate_limit",
    ),
    500: StripeError(500, "api_error", "Something went wrong on Stripe's end."),
}


def _expand(store: Store, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for path in paths:
        node, *rest = path.split(".")
        value = body.get(node)
        if isinstance(value, str) and value in store.objects:
            body[node] = _expand(store, store.objects[value], [".".join(rest)] if rest else [])
    return body


def _json(status: int, body: dict[str, Any], **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"Request-Id": "req_fake", **headers})


class FakeApp:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.client = httpx.AsyncClient(timeout=10)
        self.pending: set[asyncio.Task[list[int]]] = set()
        routes = [
            Route(path, self._endpoint(handler), methods=[method])
            for module in RESOURCES
            for method, path, handler in module.ROUTES
        ]
        routes.append(Route("/_fake/checkout/{id}", self._hosted_page, methods=["GET"]))
        routes.append(Route("/_fake/3ds/{id}", self._hosted_page, methods=["GET"]))
        routes.append(Route("/_fake/invoice/{id}", self._hosted_page, methods=["GET"]))
        self.asgi = Starlette(routes=routes)

    async def _hosted_page(self, request: Request) -> Response:
        return Response(f"Stripe's hosted page for {request.path_params['id']}", 200)

    def _refused(self, request: Request) -> JSONResponse | None:
        """The answer a request gets before it runs: no key, or a knob's failure."""
        if not request.url.path.startswith("/_fake/"):
            auth = request.headers.get("authorization", "")
            if not auth.startswith("Bearer sk_test_"):
                error = StripeError(401, "invalid_request_error", "Invalid API Key provided.")
                return _json(401, error.answer())
        knobs = self.store.knobs
        if knobs.down:
            return _json(500, _KNOB_ERRORS[500].answer())
        if knobs.fail_before:
            status = knobs.fail_before.popleft()
            return _json(status, _KNOB_ERRORS[status].answer())
        return None

    def _endpoint(self, handler: Handler) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.store.requests.append((request.method, request.url.path))
            refused = self._refused(request)
            if refused is not None:
                return refused
            post = request.method == "POST"
            try:
                params = (
                    decode_form(await request.body()) if post else decode_query(request.url.query)
                )
            except StripeError as error:
                return _json(error.status, error.answer())
            expand = params.pop("expand", [])
            key = request.headers.get("idempotency-key") if post else None
            if key is not None and key in self.store.idempotency:
                return self._replay(key, request, params)
            status, body = self._run(handler, params, dict(request.path_params))
            if key is not None and status in (200, 402):
                self.store.idempotency[key] = IdempotentAnswer(
                    request.method, request.url.path, params, status, body
                )
            if status == 200:
                body = _expand(self.store, body, list(expand))
            self._flush_events()
            if self.store.knobs.fail_after:
                failed = self.store.knobs.fail_after.popleft()
                return _json(failed, _KNOB_ERRORS[failed].answer())
            return _json(status, body)

        return endpoint

    def _run(
        self, handler: Handler, params: dict[str, Any], path: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        try:
            return 200, copy.deepcopy(handler(self.store, params, path))
        except StripeError as error:
            return error.status, copy.deepcopy(error.answer())

    def _replay(self, key: str, request: Request, params: dict[str, Any]) -> JSONResponse:
        first = self.store.idempotency[key]
        if (first.method, first.path, first.params) != (request.method, request.url.path, params):
            error = StripeError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they"
                " were first used with.",
            )
            return _json(400, error.answer())
        return _json(first.status, first.body, **{"Idempotent-Replayed": "true"})

    def _flush_events(self) -> None:
        """Send what the request emitted, in the background, unless the tests hold events."""
        if self.store.knobs.hold_events or self.store.webhook_url is None:
            return
        batch, self.store.outgoing[:] = list(self.store.outgoing), []
        task = asyncio.get_running_loop().create_task(events.send(self.store, batch, self.client))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
