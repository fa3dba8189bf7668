"""What the billing manager's pages share: errors answered as pages, the manager's company,
and the few form values they read.

A service's ``NotFound`` (unknown, malformed or another company's id) is a 404 page and its
``Forbidden`` (a plain member on a manager's page) a 403 page, never a JSON problem document:
``PortalRoute`` renders them for every route of the manager's routers. Errors a form can fix
(a seat count out of range, no seat left) are caught by the route itself, which shows the form
again with the message beside the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData

from seatledger.domain.ids import ID_PATTERN
from seatledger.errors import SeatledgerError
from seatledger.pricing.errors import SeatsOutOfRange
from seatledger.services.callers import Caller
from seatledger.services.runtime import Runtime
from seatledger.web import portal_notices
from seatledger.web.cookies import runtime
from seatledger.web.statuses import status_for
from seatledger.web.templating import render

# A seat count as typed: ASCII digits only (``int()`` would also take "１２" or "1_000"), and
# short enough that the price's own bounds, not Python, say what is too many.
_COUNT = re.compile(r"[0-9]{1,12}")


async def error_page(request: Request, error: SeatledgerError) -> Response:
    headings = {
        404: "Not found",
        403: "Only the billing manager may see this",
        402: "The payment was declined",
        409: "This cannot be done now",
        503: "The service is unavailable; try again in a moment",
        400: "This link or request cannot be used",
        401: "Sign in again",
    }
    status = status_for(error)
    text = error.detail
    if status == 404:
        text = "There is nothing here, or it belongs to another company."
    elif status == 403:
        text = "This page is for the company's billing manager. Your own seats are on your page."
    return await render(
        request,
        "message.html",
        {
            "heading": headings.get(status, "This request cannot be done"),
            "text": text,
            "link": {"href": "/portal", "text": "Back to the portal"},
        },
        status=status,
    )


async def page(
    request: Request, name: str, context: dict[str, Any], *, status: int = 200
) -> Response:
    """A manager's page, showing (once) the notices a redirect to it carried."""
    flashes = await portal_notices.taken(request)
    response = await render(
        request,
        name,
        {**context, "flashes": [*flashes, *context.get("flashes", [])]},
        status=status,
    )
    portal_notices.clear(request, response)
    return response


class PortalRoute(APIRoute):
    """A route whose uncaught service errors become pages (404, 403, …), not problems."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SeatledgerError as error:
                return await error_page(request, error)

        return guarded


def manager_company(caller: Caller) -> str:
    """The company whose billing manager is signed in (``Forbidden`` for a plain member)."""
    assert caller.session is not None  # the portal's callers are sessions (``portal_caller``)
    company_id = caller.session.company_id
    caller.manager_of(company_id)
    return company_id


def rt_of(request: Request) -> Runtime:
    return runtime(request)


def text_of(form: FormData | Mapping[str, Any], name: str, *, limit: int = 10_000) -> str:
    """A form field as text (empty when absent, an upload, or absurdly long)."""
    value = form.get(name)
    if not isinstance(value, str) or len(value) > limit:
        return ""
    return value.strip()


def seat_count(value: str, *, field: str = "seats") -> int:
    """A whole number of seats as typed; the price checks its bounds. Anything else is the
    error the price gives for a count that is not a whole number."""
    if not _COUNT.fullmatch(value):
        raise SeatsOutOfRange([(field, "must be a whole number of seats")])
    return int(value)


def cursor_of(value: str | None) -> str | None:
    """A list's cursor: one of the ids the page gave, else the first page."""
    return value if value is not None and ID_PATTERN.fullmatch(value) else None


__all__ = [
    "PortalRoute",
    "cursor_of",
    "error_page",
    "manager_company",
    "page",
    "rt_of",
    "seat_count",
    "text_of",
]
