"""What every dashboard route shares: errors become pages, a missing session a redirect.

``DashboardRoute`` is the routers' route class. A ``SeatledgerError`` that a route does not
answer itself (an unknown id, a malformed one, a refused change) is a plain page with the
service's message and the status its kind has in the API (404, 422, 409, 403), never a JSON
problem document and never a 500; no session is a 303 to the login page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from seatledger.domain.errors import Conflict, Forbidden, InvalidPrice, NotFound, ValidationFailed
from seatledger.errors import SeatledgerError
from seatledger.pricing import PricingError
from seatledger.web.dashboard.session import DashboardSignedOut
from seatledger.web.templating import render

LOGIN = "/dashboard/login"
_STATUS: tuple[tuple[type[SeatledgerError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (Forbidden, 403, "Not allowed"),
    (Conflict, 409, "That cannot be done now"),
    (ValidationFailed, 422, "That input is not valid"),
    (InvalidPrice, 422, "That price is not valid"),
    (PricingError, 422, "That input is not valid"),
)


def status_of(error: SeatledgerError) -> tuple[int, str]:
    for kind, status, heading in _STATUS:
        if isinstance(error, kind):
            return status, heading
    return 400, "That cannot be done"


async def error_page(request: Request, error: SeatledgerError) -> Response:
    status, heading = status_of(error)
    context = {
        "heading": heading,
        "text": error.detail,
        "link": {"href": "/dashboard", "text": "Back to the dashboard"},
    }
    return await render(request, "message.html", context, status=status)


class DashboardRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except DashboardSignedOut:
                return RedirectResponse(LOGIN, status_code=303)
            except SeatledgerError as error:
                return await error_page(request, error)

        return handle


__all__ = ["LOGIN", "DashboardRoute", "error_page", "status_of"]
