"""The front door (SPEC §11): ``/`` says what this server is and links its pages and the API's
documentation (``seatledger.api.docs`` serves ``/docs``, ``/redoc`` and their assets)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from seatledger import __version__
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False)


def _serves(request: Request, path: str) -> bool:
    """Whether this application answers GET ``path`` (a page another module installs)."""
    return any(
        isinstance(route, APIRoute) and route.path == path and "GET" in (route.methods or ())
        for route in request.app.routes
    )


@router.get("/")
async def home(request: Request) -> HTMLResponse:
    return await render(
        request,
        "home.html",
        {"version": __version__, "dashboard": _serves(request, "/dashboard")},
    )


__all__ = ["router"]
