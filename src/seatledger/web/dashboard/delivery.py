"""What left the engine: webhook endpoints and their deliveries (retry one), emails and
events, through the services ``/v1/webhook-endpoints``, ``/v1/emails`` and ``/v1/events``
use."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.ids import check_id
from seatledger.services import emails, events, webhook_deliveries, webhook_endpoints
from seatledger.web import csrf
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)


def _cursor(request: Request) -> str | None:
    cursor = request.query_params.get("cursor")
    return cursor if cursor and len(cursor) <= 40 else None


@router.get("/dashboard/webhooks")
async def endpoints(request: Request, who: DashboardCaller) -> Response:
    page = await webhook_endpoints.list_webhook_endpoints(
        runtime(request), limit=100, cursor=_cursor(request)
    )
    return await render(request, "dashboard/webhooks.html", {"who": who, "page": page})


@router.get("/dashboard/webhooks/{endpoint_id}")
async def deliveries(request: Request, endpoint_id: str, who: DashboardCaller) -> Response:
    rt = runtime(request)
    endpoint = await webhook_endpoints.get_webhook_endpoint(
        rt, check_id(endpoint_id, "webhook endpoint")
    )
    page = await webhook_deliveries.list_deliveries(
        rt, endpoint.id, limit=100, cursor=_cursor(request)
    )
    flashes = []
    if (retried := request.query_params.get("retried")) is not None:
        flashes.append({"text": f"The delivery was sent again: {retried}."})
    context = {"who": who, "endpoint": endpoint, "page": page, "flashes": flashes}
    return await render(request, "dashboard/deliveries.html", context)


@router.post(
    "/dashboard/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry",
    dependencies=[Depends(csrf.require)],
)
async def retry(
    request: Request, endpoint_id: str, delivery_id: str, who: DashboardCaller
) -> Response:
    delivery = await webhook_deliveries.retry_delivery(
        runtime(request),
        check_id(endpoint_id, "webhook endpoint"),
        check_id(delivery_id, "webhook delivery"),
    )
    return RedirectResponse(
        f"/dashboard/webhooks/{delivery.endpoint_id}?retried={delivery.status}", status_code=303
    )


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
