"""What left the engine: emails and events, through the services ``/v1/emails`` and
``/v1/events`` use (webhook endpoints and their deliveries are ``webhooks``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seatledger.services import emails, events
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)


def _cursor(request: Request) -> str | None:
    cursor = request.query_params.get("cursor")
    return cursor if cursor and len(cursor) <= 40 else None


@router.get("/dashboard/emails")
async def list_emails(request: Request, who: DashboardCaller) -> Response:
    page = await emails.list_emails(
        runtime(request), limit=50, cursor=_cursor(request), merchant=True
    )
    return await render(request, "dashboard/emails.html", {"who": who, "page": page})


@router.get("/dashboard/events")
async def list_events(request: Request, who: DashboardCaller) -> Response:
    page = await events.list_events(runtime(request), limit=50, cursor=_cursor(request))
    return await render(request, "dashboard/events.html", {"who": who, "page": page})
