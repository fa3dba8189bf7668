"""The FastAPI application: ``create_app()`` (``uvicorn --factory seatledger.api.app:create_app``).

Routers, one per noun, call the services and nothing else; ``auth`` says who is calling,
``idempotency`` makes POST retries safe, ``problems`` turns every error into an RFC 9457
problem document. ``/openapi.json`` describes every route, its bodies and its error answers.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from seatledger import __version__, web
from seatledger.adapters.db.engine import open_pool
from seatledger.api import (
    benefits,
    checkouts,
    claims,
    companies,
    customer_sessions,
    docs,
    emails,
    event_catalogue,
    events,
    files,
    health,
    holders,
    invoices,
    members,
    metrics,
    orders,
    products,
    sandbox,
    seats,
    stripe_checkout,
    stripe_webhooks,
    subscriptions,
    webhook_endpoints,
)
from seatledger.api.event_rendering import event_renderer
from seatledger.api.idempotency import IdempotencyMiddleware
from seatledger.api.problems import FieldError, Problem, install
from seatledger.api.request_gate import RequestGate
from seatledger.api.request_log import RequestLog
from seatledger.api.throttle import Throttle
from seatledger.observability import logs
from seatledger.services import delivery
from seatledger.services.runtime import Runtime

log = logging.getLogger("seatledger.delivery")

# ``seatledger serve --no-delivery`` tells its server processes through the environment, as it
# tells them the public URL: the application is built from the environment in each of them.
DELIVERY_ENV = "SEATLEDGER_SERVE_DELIVERY"
# On shutdown, the round under way may finish within this many seconds; then it is abandoned
# (rolled back: its events stay in the outbox for the next loop).
DELIVERY_SHUTDOWN_GRACE = 10.0
# Allocations between two collections of the youngest generation in a server process
# (Python's default is 700): see ``settle_garbage_collector``.
GC_YOUNG_THRESHOLD = 10_000

DESCRIPTION = """\
Seat-based billing: products priced per seat, checkouts, subscriptions and orders (seat
pools), seats assigned, claimed and revoked, invoices and credit.

**Authentication.** `Authorization: Bearer <key>`: a merchant API key (`sl_…`), or a customer
session token (`cs_…`, from `POST /v1/customer-sessions` or a claim) confined to one company.

**Errors** are RFC 9457 problem documents (`application/problem+json`) with a stable `code`:
`{type, title, status, detail, code, errors?: [{field, message}]}`.

**Retries.** Every POST, PUT and PATCH takes an `Idempotency-Key` header (kept 24 h): the work and
its answer are stored together, a retry gets the first answer (`Idempotent-Replayed: true`),
without the secrets it held (`Idempotent-Withheld` names them).

**Lists** take `limit` (1–100, default 20) and `cursor`, and answer
`{data, has_more, next_cursor}`. A company's, a pool's or the catalog's run oldest first;
lists across every company (companies, checkouts, and subscriptions, orders or invoices
without a filter) run newest first.

**Times** are ISO 8601 in UTC, whole seconds, one format everywhere: `2031-01-16T12:00:00Z`.

**Probes**: `GET /healthz` (the process is up) and `GET /readyz` (the database answers and its
schema is current), without credentials.
"""


def create_app(runtime: Runtime | None = None, *, delivery_loop: bool | None = None) -> FastAPI:
    """The API over ``runtime``; without one, a runtime built from the environment, whose
    database engine is disposed of when the application shuts down.

    ``delivery_loop``: whether the application runs a delivery loop while it serves
    (``seatledger.services.delivery``, over ``bootstrap.delivery_channels``). By default it
    does when it built its own runtime (a server process), unless ``SEATLEDGER_SERVE_DELIVERY``
    is ``0`` (``seatledger serve --no-delivery``)."""
    owned: Runtime | None = None
    if runtime is None:
        from seatledger.bootstrap import build_runtime

        runtime = owned = build_runtime(render_event=event_renderer)
    if delivery_loop is None:
        delivery_loop = owned is not None and os.environ.get(DELIVERY_ENV, "1") != "0"
    delivering = runtime if delivery_loop else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if owned is not None:  # a server process: what it built at start-up lives as long
            await open_pool(owned.engine)
            settle_garbage_collector()
        stop = asyncio.Event()
        task = None if delivering is None else asyncio.create_task(_deliver(delivering, stop))
        try:
            yield
        finally:
            if task is not None:
                await _stop_delivery(task, stop)
            if owned is not None:
                await owned.engine.dispose()

    app = FastAPI(
        title="seatledger",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # seatledger.api.docs serves /docs and /redoc, offline
        redoc_url=None,
        generate_unique_id_function=operation_id,
        # FastAPI's own OpenTelemetry instrumentation: seatledger exports Prometheus metrics
        # and its own request log, and configures no OpenTelemetry provider, yet with it on
        # every request asks the global providers whether one was configured since.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = runtime
    logs.configure_structlog()
    install(app)
    # A request is matched against the routes in this order, one by one (a tenth of an
    # entitlement check's CPU went there): the hot paths' routers come first (seats: assign,
    # revoke, seat lists; companies: entitlement checks; claims). No two routers serve the
    # same path, so the order changes nothing else.
    routers = [
        seats,
        companies,
        claims,
        health,
        metrics,
        products,
        benefits,
        files,
        members,
        customer_sessions,
        checkouts,
        subscriptions,
        orders,
        holders,
        invoices,
        webhook_endpoints,
        emails,
        events,
        stripe_webhooks,
        stripe_checkout,
    ]
    if runtime.settings.sandbox:
        routers.append(sandbox)
    for module in routers:
        app.include_router(module.router)
    docs.install(app)
    web.install(app)
    event_catalogue.install(app)
    # Which methods each path takes, for 405's Allow (the app's own routes are included lazily).
    app.state.route_methods = [
        (route.path_regex, set(route.methods or ()))
        for router in [*(module.router for module in routers), docs.router, *web.ROUTERS]
        for route in router.routes
        if isinstance(route, APIRoute)
    ]
    # From the innermost out: keyed POSTs; the body's cap and the credential before the body
    # is read; claims throttled before anything else is done for them; the request's line and
    # observation, outermost, as it sees every answer and the whole time it took.
    app.add_middleware(IdempotencyMiddleware, runtime=runtime)
    app.add_middleware(RequestGate, runtime=runtime)
    app.add_middleware(Throttle, rate=runtime.settings.claim_rate_per_minute)
    app.add_middleware(RequestLog)
    _document_problems(app)
    return app


def settle_garbage_collector() -> None:
    """After start-up, in a server process: the objects built so far (the application, its
    routes and models, the modules) stay for the process's life, so they are moved out of the
    collector's sight (``gc.freeze``), and young objects are collected less often. A full
    collection then no longer walks the whole application (a pause of tens of milliseconds
    at random, in the entitlement checks' slowest answers); each request's own objects are
    freed by reference counting, as before."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def _deliver(runtime: Runtime, stop: asyncio.Event) -> None:
    from seatledger.bootstrap import delivery_channels

    await delivery.deliver_until(runtime, delivery_channels(runtime), stop)


async def _stop_delivery(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    """Let the round under way finish, within the grace period; else abandon it (rolled back,
    nothing lost)."""
    stop.set()
    try:
        await asyncio.wait_for(task, DELIVERY_SHUTDOWN_GRACE)
    except TimeoutError:
        log.warning("delivery round abandoned at shutdown; its events stay in the outbox")
    except Exception:
        log.warning("the delivery loop failed", exc_info=True)


def operation_id(route: APIRoute) -> str:
    """A route's ``operationId`` is its function's name (``assign_seat``, ``list_seats``): short
    and stable, so generated clients read well. ``tests/e2e/test_openapi.py`` pins them."""
    return route.name


def _document_problems(app: FastAPI) -> None:
    """Problem documents are described once, in ``components``; routes refer to them. FastAPI's
    own 422 answer (``HTTPValidationError``), which it adds to every route with parameters, is
    dropped: routes list their 422 themselves, as a problem document, where one can happen."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        operations = [*schema.get("paths", {}).values(), *schema.get("webhooks", {}).values()]
        for item in operations:
            for operation in item.values():
                answer = operation.get("responses", {}).get("422", {})
                if "HTTPValidationError" in str(answer.get("content", {})):
                    del operation["responses"]["422"]
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["FieldError"] = FieldError.model_json_schema()
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components["Problem"].pop("$defs", None)
        _mark_uploads_binary(components)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _mark_uploads_binary(components: dict[str, Any]) -> None:
    """An uploaded file is a string of bytes: OpenAPI 3.1 says so with ``contentMediaType``
    alone, as FastAPI writes it, but client generators read the 3.0 ``format: binary``."""
    for component in components.values():
        for field in component.get("properties", {}).values():
            if field.get("type") == "string" and "contentMediaType" in field:
                field["format"] = "binary"
