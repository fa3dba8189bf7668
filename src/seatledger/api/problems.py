"""Errors as RFC 9457 problem documents (``application/problem+json``); the only place that turns
errors into problem documents: an error class answers the status of its nearest kind in
``STATUS_OF`` (every ``Conflict`` is 409; the table is ``seatledger.web.statuses``, shared with
the pages so that a page and the API answer one error alike), and the few codes the HTTP edge
makes itself are ``EDGE_STATUS``.

    {"type": "urn:seatledger:problem:no_seats_available", "title": "Conflict", "status": 409,
     "detail": "Every seat of this subscription is assigned.", "code": "no_seats_available",
     "errors": [{"field": "seats", "message": "must be at least 1"}]}   # errors: when fields

Statuses: 400 ``invalid_json`` / ``invalid_token`` / ``invalid_provider_event`` (Stripe's
webhooks), 401 ``unauthenticated``, 402 ``payment_failed``, 403 ``forbidden``, 404 ``not_found``,
405 ``method_not_allowed``, 409 every conflict (its code says which), 413 ``payload_too_large``,
422 ``validation_error`` / ``seats_out_of_range``, 503 ``not_ready`` (``/readyz`` only) and
``payment_provider_unavailable``. Anything unforeseen is logged and
answered 500 ``internal_error`` without details.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from seatledger.domain.errors import SeatledgerError, catalogue
from seatledger.web.statuses import STATUS_OF, status_of

log = logging.getLogger("seatledger.api")

MEDIA_TYPE = "application/problem+json"

# Codes no engine error carries: the HTTP layer's own refusals, and the unforeseen.
EDGE_STATUS: dict[str, int] = {
    "invalid_json": 400,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "rate_limited": 429,
    "internal_error": 500,
}
# Every code a problem document may carry: the catalogue's and the edge's.
CODES: tuple[str, ...] = tuple(sorted({*catalogue(), *EDGE_STATUS}))
TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Unauthenticated",
    402: "Payment failed",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    429: "Too many requests",
    422: "Unprocessable content",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document; ``code`` is stable, ``detail`` is for people."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(json_schema_extra={"enum": list(CODES)})
    errors: list[FieldError] | None = None


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


def problem(
    status: int,
    code: str,
    detail: str,
    errors: Iterable[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:seatledger:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": _printable(detail),
        "code": code,
    }
    listed = [{"field": _printable(f), "message": _printable(m)} for f, m in errors]
    if listed:
        body["errors"] = listed
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def domain_problem(error: SeatledgerError) -> Response:
    status = status_of(type(error))
    if status is None:  # an error class without a status is a fault, not an answer
        log.error("no HTTP status for %s (%s)", type(error).__name__, error.code)
        return problem(500, "internal_error", "Something went wrong on our side; it was logged.")
    headers = {"WWW-Authenticate": 'Bearer realm="seatledger"'} if status == 401 else None
    return problem(status, error.code, error.detail, error.errors, headers)


# -- request validation ------------------------------------------------------------------------

_SOURCES = ("body", "query", "path", "header", "cookie")
_WHOLE_BODY = {
    "missing",
    "model_type",
    "model_attributes_type",
    "dict_type",
    "json_invalid",
    "json_type",
}


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "prices", 0, "tiers", 1, "up_to")`` → ``prices[0].tiers[1].up_to``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "is invalid"))
    return message.removeprefix("Value error, ")


def validation_problem(errors: Sequence[Any]) -> Response:
    """Pydantic's errors as one problem: a body that is not a JSON object is 400 ``invalid_json``;
    the rest is 422, ``seats_out_of_range`` when every error is one, else ``validation_error``."""
    for error in errors:
        loc = tuple(error.get("loc", ()))
        whole_body = loc[:1] == ("body",) and (len(loc) == 1 or error.get("type") == "json_invalid")
        if whole_body and error.get("type") in _WHOLE_BODY:
            detail = (
                "The body is not valid JSON."
                if error.get("type") == "json_invalid"
                else "The body must be a JSON object sent as application/json."
            )
            return problem(400, "invalid_json", detail)
    fields: list[tuple[str, str]] = []
    for error in errors:
        entry = (field_name(error.get("loc", ())) or "body", _message(error))
        if entry not in fields:
            fields.append(entry)
    codes = {error.get("type") for error in errors}
    code = "seats_out_of_range" if codes == {"seats_out_of_range"} else "validation_error"
    detail = "; ".join(f"{field}: {message}" for field, message in fields)
    return problem(422, code, detail, fields)


# -- handlers -----------------------------------------------------------------------------------


async def _on_domain_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, SeatledgerError)
    return domain_problem(error)


async def _on_validation_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return validation_problem(error.errors())


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes (one route object serves one method): from
    the table ``create_app`` leaves in ``app.state.route_methods``."""
    table: list[tuple[Any, set[str]]] = getattr(request.app.state, "route_methods", [])
    methods: set[str] = set()
    for regex, route_methods in table:
        if regex.match(request.url.path):
            methods |= route_methods
    return sorted(methods)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    status = error.status_code
    if status == 404:
        return problem(404, "not_found", "No such route.")
    if status == 405:
        allow = ", ".join(_allowed_methods(request))
        headers = {"Allow": allow} if allow else None
        return problem(
            405, "method_not_allowed", "This route does not take this method.", (), headers
        )
    if status == 400:
        return problem(400, "invalid_json", "The body could not be read as JSON or a form.")
    if status == 413:
        return problem(413, "payload_too_large", "The body is too large.")
    code = "internal_error" if status >= 500 else "http_error"
    return problem(status, code, str(error.detail) if status < 500 else "Something went wrong.")


async def _on_unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "internal_error", "Something went wrong on our side; it was logged.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SeatledgerError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


# -- OpenAPI ------------------------------------------------------------------------------------

_DESCRIPTIONS = {
    400: "Malformed JSON (`invalid_json`), or an unusable invitation token (`invalid_token`).",
    401: "No valid credential (`unauthenticated`).",
    402: "The payment was declined (`payment_failed`); nothing changed.",
    403: "The credential may not do this (`forbidden`).",
    404: "Unknown, not yours, or a malformed id (`not_found`); `errors` names a body's field.",
    409: "The state forbids it; `code` says why.",
    422: "Invalid input (`validation_error`, `seats_out_of_range`); `errors` names the fields.",
    503: "Not ready (`not_ready`), or the payment provider cannot be reached now"
    " (`payment_provider_unavailable`: nothing was charged or changed; try again later).",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses, each a problem document."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


__all__ = [
    "CODES",
    "EDGE_STATUS",
    "MEDIA_TYPE",
    "STATUS_OF",
    "Problem",
    "domain_problem",
    "install",
    "problem",
    "responses",
    "status_of",
    "validation_problem",
]
