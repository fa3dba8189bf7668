"""What every dashboard route shares: errors become pages, a missing session a redirect.

``DashboardRoute`` is the routers' route class. A ``SeatledgerError`` that a route does not
answer itself (an unknown id, a malformed one, a refused change) is a plain page with the
service's message and the API's status for it (``web.statuses``), never a JSON
problem document and never a 500; no session is a 303 to the login page.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from seatledger.domain.errors import InvalidPrice
from seatledger.errors import SeatledgerError
from seatledger.web.dashboard.session import DashboardSignedOut
from seatledger.web.statuses import status_for
from seatledger.web.templating import render

LOGIN = "/dashboard/login"
# The page's own wording; the status is the API's (``web.statuses``).
_HEADINGS: dict[int, str] = {
    400: "That cannot be used",
    402: "The payment was declined",
    403: "Not allowed",
    404: "Not found",
    409: "That cannot be done now",
    422: "That input is not valid",
    503: "The service is unavailable; try again in a moment",
}


def status_of(error: SeatledgerError) -> tuple[int, str]:
    """The API's status for ``error`` and the page's heading for it."""
    status = status_for(error)
    heading = "That price is not valid" if isinstance(error, InvalidPrice) else None
    return status, heading or _HEADINGS.get(status, "That cannot be done")


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
