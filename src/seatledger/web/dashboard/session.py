"""The dashboard's session: an HttpOnly cookie (``sl_dashboard``) holding a server-side
session's token (``seatledger.services.dashboard_users``).

``DashboardCaller`` is the routes' dependency: the merchant's ``Caller`` (a dashboard user may
do what an API key with both scopes may), or ``DashboardSignedOut``, which redirects to the
login page. The cookie lives as long as the session may (7 days); the server ends it sooner
when idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from seatledger.domain.dashboard_user import SESSION_ABSOLUTE, DashboardSession
from seatledger.services import dashboard_users
from seatledger.services.callers import Caller
from seatledger.web.cookies import runtime

COOKIE = "sl_dashboard"
MAX_AGE = int(SESSION_ABSOLUTE.total_seconds())


class DashboardSignedOut(Exception):
    """No live dashboard session: answered with a redirect to the login page."""


@dataclass(frozen=True, slots=True)
class Merchant:
    """Who is signed in, and the ``Caller`` the services are asked with."""

    session: DashboardSession
    caller: Caller

    @property
    def email(self) -> str:
        return self.session.user.email


async def current(request: Request) -> Merchant | None:
    session = await dashboard_users.authenticate(runtime(request), request.cookies.get(COOKIE))
    if session is None:
        return None
    return Merchant(session, Caller(f"user:{session.user.id}"))


async def _merchant(request: Request) -> Merchant:
    found = await current(request)
    if found is None:
        raise DashboardSignedOut
    return found


DashboardCaller = Annotated[Merchant, Depends(_merchant)]


__all__ = ["COOKIE", "MAX_AGE", "DashboardCaller", "DashboardSignedOut", "Merchant", "current"]
