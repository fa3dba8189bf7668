"""Entering the portal (SPEC §11): a customer session's ``portal_url`` carries its token once.

``GET /portal?session=cs_…`` checks the token, keeps it in an HttpOnly cookie (``sl_portal``,
expiring with the session) and redirects to the same address without it, so the bearer token
does not stay in the address bar, the history, a ``Referer`` or a server log. From then on the
cookie speaks for the member: ``portal_caller`` resolves it into the same ``Caller`` the API
uses, so the portal obeys the API's rules (another company's objects are not found; a plain
member may not do what only the billing manager may).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.services import customer_sessions
from seatledger.services.callers import Caller, resolve
from seatledger.web.cookies import clear_cookie, runtime, set_cookie

COOKIE = "sl_portal"


class PortalSignedOut(Exception):
    """No live portal session: answered with a page that says how to get a new link."""


async def enter(request: Request, token: str, to: str) -> Response:
    """Exchange ``token`` for the portal cookie and redirect to ``to`` (a path of this
    server, without the token). ``PortalSignedOut`` when the token is not a live session."""
    rt = runtime(request)
    member = await customer_sessions.authenticate_session(rt, token)
    if member is None:
        raise PortalSignedOut
    response = RedirectResponse(to, status_code=303)
    response.headers["Referrer-Policy"] = "no-referrer"
    sign_in(request, response, token, member.expires_at)
    return response


def sign_in(request: Request, response: Response, token: str, expires_at: datetime) -> None:
    """Keep a live session's ``token`` in the portal cookie, expiring with the session (for a
    session this server has just opened, e.g. the buyer's after paying a checkout)."""
    seconds = int((expires_at - runtime(request).clock.now()).total_seconds())
    set_cookie(request, response, COOKIE, token, max_age=max(seconds, 1))


def sign_out(request: Request, response: Response) -> None:
    clear_cookie(request, response, COOKIE)


async def current_caller(request: Request) -> Caller | None:
    """The member the portal cookie speaks for, or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    caller = await resolve(runtime(request), f"Bearer {token}")
    return caller if caller is not None and caller.session is not None else None


async def portal_caller(request: Request) -> Caller:
    """A route dependency: the portal's member (``PortalSignedOut`` without one)."""
    caller = await current_caller(request)
    if caller is None:
        raise PortalSignedOut
    return caller


PortalCaller = Annotated[Caller, Depends(portal_caller)]


__all__ = [
    "COOKIE",
    "PortalCaller",
    "PortalSignedOut",
    "enter",
    "portal_caller",
    "sign_in",
    "sign_out",
]
