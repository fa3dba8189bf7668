"""``HotRoute``: a route answered without FastAPI's general request handling (SPEC §9).

An entitlement check is the request a deployment makes most, and FastAPI's general machinery
was a third of its CPU: solving the route's dependencies (cache keys, scopes, the parameters of
every kind a route could take), validating the answer against its model again and encoding it.
A ``HotRoute`` is declared like any other route, so ``/openapi.json`` documents it the same
way; only its handler differs. It takes the routes whose inputs are simple enough to hand over
directly, and refuses any other when the app is built (a ``TypeError``), so a route cannot drift
into a shape the handler would answer wrongly:

* path parameters typed ``str`` (the route checks them itself, as every route does);
* dependencies that each take the request alone (the runtime, the checked caller), its
  router's included; an override in ``app.dependency_overrides`` must take the request alone;
* no query, header, cookie or body parameters;
* an ``async`` endpoint whose answer is the route's response model, encoded as FastAPI would
  (by alias, with no ``response_model_*`` options).

Errors are raised to the app's exception handlers, as from any route.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response, routing
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from seatledger.api.json_body import JsonRoute

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def _refuse(route: APIRoute, why: str) -> TypeError:
    return TypeError(f"{route.path} cannot be a HotRoute: {why}")


def _awaitable(call: Any) -> bool:
    """An ``async def``, or an object whose ``__call__`` is one (a security scheme)."""
    method = type(call).__call__ if not inspect.isroutine(call) else None
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(method)


def _request_only(dependency: Dependant) -> bool:
    return (
        dependency.request_param_name is not None
        and _awaitable(dependency.call)
        and not dependency.dependencies
        and not dependency.path_params
        and not dependency.query_params
        and not dependency.header_params
        and not dependency.cookie_params
        and not dependency.body_params
    )


class HotRoute(JsonRoute):
    """A route whose handler hands its path parameters and request-only dependencies straight
    to the endpoint and encodes the model it returns (module docstring). A ``JsonRoute`` as
    every route of the API is, though it reads no body: it takes none."""

    def get_route_handler(self) -> Handler:
        # Included in a router, FastAPI builds the handler for the route as included (the
        # router's dependencies added), as ``APIRoute.get_route_handler`` reads it.
        context = routing._effective_route_context_var.get()
        route: Any = context if context is not None and context.original_route is self else self
        dependant = route.dependant
        if dependant.query_params or dependant.header_params or dependant.cookie_params:
            raise _refuse(self, "it takes query, header or cookie parameters")
        if dependant.body_params:
            raise _refuse(self, "it takes a body")
        path_names = [param.name for param in dependant.path_params]
        if any(param.field_info.annotation is not str for param in dependant.path_params):
            raise _refuse(self, "a path parameter is not a str")
        solvers: list[tuple[str | None, Callable[[Request], Any]]] = []  # None: no parameter
        for dependency in dependant.dependencies:
            if dependency.call is None or not _request_only(dependency):
                raise _refuse(self, "a dependency is not an async function of the request alone")
            solvers.append((dependency.name, dependency.call))
        provider = route.dependency_overrides_provider
        model = self.response_model
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise _refuse(self, "its answer is not a model")
        shaped = (route.response_model_include, route.response_model_exclude)
        flags = (
            route.response_model_exclude_unset,
            route.response_model_exclude_defaults,
            route.response_model_exclude_none,
        )
        if (
            any(part is not None for part in shaped)
            or any(flags)
            or not route.response_model_by_alias
        ):
            raise _refuse(self, "its answer is encoded with options")
        if not inspect.iscoroutinefunction(self.endpoint):
            raise _refuse(self, "its endpoint is not an async function")
        encode = model.__pydantic_serializer__.to_json
        endpoint = self.endpoint
        status = self.status_code or 200

        async def handle(request: Request) -> Response:
            params = request.path_params
            values: dict[str, Any] = {name: params[name] for name in path_names}
            # An override (``app.dependency_overrides``) must take the request alone too.
            overrides = getattr(provider, "dependency_overrides", None) or {}
            for name, call in solvers:
                value = await overrides.get(call, call)(request)
                if name is not None:
                    values[name] = value
            answer = await endpoint(**values)
            if not isinstance(answer, model):
                raise TypeError(f"{self.path} answered {type(answer).__name__}, not its model")
            return Response(encode(answer, by_alias=True), status, media_type="application/json")

        return handle


def hot_get(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """``@router.get(path, **options)``, served by a ``HotRoute``."""

    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(
            path, endpoint, methods=["GET"], route_class_override=HotRoute, **options
        )
        return endpoint

    return register


__all__ = ["HotRoute", "hot_get"]
