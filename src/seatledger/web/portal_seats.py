"""The portal's front door and the seat holder's page (SPEC §11).

``GET /portal?session=…`` exchanges a customer session's token for the portal cookie and
redirects to ``/portal`` without it (``portal_session.enter``). ``GET /portal`` sends the
billing manager to the manager's pages (``/portal/manage``) and every other member to
``/portal/seats``: their seats and benefits (license keys with a copy button, download links,
access grants, notes), for every member, manager or not, who holds a seat.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.services.holdings import holdings
from seatledger.web import portal_session
from seatledger.web.cookies import runtime
from seatledger.web.portal_session import PortalCaller, PortalSignedOut
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/portal")
async def portal(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    token = request.query_params.get("session")
    if token is not None:
        return await portal_session.enter(request, token, f"{root}/portal")
    caller = await portal_session.portal_caller(request)
    to = "/portal/manage" if caller.is_manager else "/portal/seats"
    return RedirectResponse(f"{root}{to}", 303)


@router.get("/portal/seats")
async def my_seats(request: Request, caller: PortalCaller) -> Response:
    if caller.session is None:  # a portal caller is always a session's
        raise PortalSignedOut
    held = await holdings(runtime(request), caller.session.member_id)
    context = {"held": held, "manager": caller.is_manager}
    return await render(request, "portal/seats.html", context)


__all__ = ["router"]
