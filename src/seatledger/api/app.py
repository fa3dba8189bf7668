"""The FastAPI application: ``create_app()`` (``uvicorn --factory seatledger.api.app:create_app``).

Routers, one per noun, call the services and nothing else; ``auth`` says who is calling,
``idempotency`` makes POST retries safe, ``problems`` turns every error into an RFC 9457
problem document. ``/openapi.json`` describes every route, its bodies and its error answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from seatledger import __version__
from seatledger.api import (
    benefits,
    checkouts,
    claims,
    companies,
    customer_sessions,
    files,
    invoices,
    members,
    orders,
    products,
    sandbox,
    seats,
    subscriptions,
    webhook_endpoints,
)
from seatledger.api.idempotency import IdempotencyMiddleware
from seatledger.api.problems import FieldError, Problem, install
from seatledger.services.runtime import Runtime

DESCRIPTION = """\
Seat-based billing: products priced per seat, checkouts, subscriptions and orders (seat
pools), seats assigned, claimed and revoked, invoices and credit.

**Authentication.** `Authorization: Bearer <key>`: a merchant API key (`sl_…`), or a customer
session token (`cs_…`, from `POST /v1/customer-sessions` or a claim) confined to one company.

**Errors** are RFC 9457 problem documents (`application/problem+json`) with a stable `code`:
`{type, title, status, detail, code, errors?: [{field, message}]}`.

**Retries.** Every POST and PATCH takes an `Idempotency-Key` header (kept 24 h): the work and
its answer are stored together, a retry gets the first answer (`Idempotent-Replayed: true`),
without the secrets it held (`Idempotent-Withheld` names them).

**Lists** take `limit` (1–100, default 20) and `cursor`, and answer
`{data, has_more, next_cursor}`.
"""


def create_app(runtime: Runtime | None = None) -> FastAPI:
    """The API over ``runtime``; without one, a runtime built from the environment, whose
    database engine is disposed of when the application shuts down."""
    owned: Runtime | None = None
    if runtime is None:
        from seatledger.bootstrap import build_runtime

        runtime = owned = build_runtime()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if owned is not None:
                await owned.engine.dispose()

    app = FastAPI(
        title="seatledger",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.route_methods = []
    install(app)
    routers = [
        products,
        benefits,
        files,
        companies,
        members,
        customer_sessions,
        checkouts,
        subscriptions,
        orders,
        seats,
        claims,
        invoices,
        webhook_endpoints,
    ]
    if runtime.settings.sandbox:
        routers.append(sandbox)
    for module in routers:
        app.include_router(module.router)
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                app.state.route_methods.append((route.path_regex, set(route.methods or ())))
    app.add_middleware(IdempotencyMiddleware, runtime=runtime)
    _document_problems(app)
    return app


def _document_problems(app: FastAPI) -> None:
    """Problem documents are described once, in ``components``; routes refer to them. FastAPI's
    own 422 answer (``HTTPValidationError``), which it adds to every route with parameters, is
    dropped: routes list their 422 themselves, as a problem document, where one can happen."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for item in schema.get("paths", {}).values():
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
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
