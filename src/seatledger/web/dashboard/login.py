"""Signing in to the dashboard and out (SPEC §11): a form, throttled, one message for a wrong
email or password; a 429 page with ``Retry-After`` when too many attempts failed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.dashboard_user import LoginFailed, LoginThrottled
from seatledger.services import dashboard_users
from seatledger.web import csrf
from seatledger.web.cookies import clear_cookie, runtime, set_cookie
from seatledger.web.dashboard.forms import field
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import COOKIE, MAX_AGE, current
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)
HOME = "/dashboard"


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


@router.get("/dashboard/login")
async def login_page(request: Request) -> Response:
    if await current(request) is not None:
        return RedirectResponse(HOME, status_code=303)
    return await render(request, "dashboard/login.html", {"email": ""})


@router.post("/dashboard/login", dependencies=[Depends(csrf.require)])
async def login(request: Request) -> Response:
    form = await request.form()
    email = field(form, "email")
    try:
        _session, token = await dashboard_users.login(
            runtime(request), email=email, password=field(form, "password"), client=_client(request)
        )
    except LoginThrottled as error:
        page = await render(
            request,
            "dashboard/login.html",
            {"email": email, "error": error.detail},
            status=429,
        )
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    except LoginFailed as error:
        return await render(
            request, "dashboard/login.html", {"email": email, "error": error.detail}, status=401
        )
    response = RedirectResponse(HOME, status_code=303)
    set_cookie(request, response, COOKIE, token, max_age=MAX_AGE)
    return response


@router.post("/dashboard/logout", dependencies=[Depends(csrf.require)])
async def logout(request: Request) -> Response:
    await dashboard_users.logout(runtime(request), request.cookies.get(COOKIE))
    response = RedirectResponse("/dashboard/login", status_code=303)
    clear_cookie(request, response, COOKIE)
    return response
