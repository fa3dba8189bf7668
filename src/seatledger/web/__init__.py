"""The pages people see (SPEC §11), server-rendered on the API's own application.

Pages call the same services as the API (no second copy of a rule) and render Jinja2
templates from ``templates/`` (``templating.render``). Every form works without JavaScript;
htmx, served by this server from npm's lock (``assets``), only enhances. Every POST carries a
CSRF token (``csrf``: routes take ``dependencies=[Depends(csrf.require)]``); sessions are
cookies (``cookies``). None of these routes is in ``/openapi.json``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from seatledger.web import (
    assets,
    checkout,
    claim,
    confirmation,
    csrf,
    dashboard,
    home,
    portal_changes,
    portal_manager,
    portal_pools,
    portal_seat_alerts,
    portal_seats,
)
from seatledger.web.portal_session import PortalSignedOut
from seatledger.web.templating import render


async def _csrf_rejected(request: Request, _error: Exception) -> Response:
    return await render(
        request,
        "message.html",
        {
            "heading": "This form has expired",
            "text": "Nothing was changed. Go back, reload the page and try again.",
        },
        status=403,
    )


async def _signed_out(request: Request, _error: Exception) -> Response:
    return await render(
        request,
        "message.html",
        {
            "heading": "Your portal link has expired",
            "text": "Portal links work for a limited time. Ask the company's billing manager,"
            " or the merchant, for a new one; an invitation email's link also signs you in.",
        },
        status=401,
    )


# The pages' routers (``api.app`` also reads them for the ``Allow`` of a 405).
ROUTERS = (
    home.router,
    checkout.router,
    confirmation.router,
    claim.router,
    portal_seats.router,
    portal_manager.router,
    portal_pools.router,
    portal_changes.router,
    portal_seat_alerts.router,
    *dashboard.ROUTERS,
)


def install(app: FastAPI) -> None:
    """Serve the pages and their assets on ``app``."""
    assets.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(csrf.CsrfRejected, _csrf_rejected)
    app.add_exception_handler(PortalSignedOut, _signed_out)


__all__ = ["ROUTERS", "install"]
