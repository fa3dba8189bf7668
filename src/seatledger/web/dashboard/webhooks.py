"""Webhook endpoints in the dashboard: list, add (the signing secret shown once, as the API's
creation answers it), edit (url, events, description, enabled), delete after asking, and each
endpoint's deliveries (retry one). Through the services ``/v1/webhook-endpoints`` uses, so
every rule (the URL's checks, the closed event catalogue) is the API's; a refused form is shown
again with the service's messages beside its fields and the API's status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from seatledger.domain.events import ALL_EVENTS, EventType
from seatledger.domain.ids import check_id
from seatledger.domain.webhook import WebhookEndpoint
from seatledger.errors import SeatledgerError
from seatledger.services import webhook_deliveries, webhook_endpoints
from seatledger.web import csrf
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.forms import field as field_of
from seatledger.web.dashboard.forms import fields
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller, Merchant
from seatledger.web.statuses import status_for
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)
CSRF = [Depends(csrf.require)]
EVENT_CHOICES = (ALL_EVENTS, *(str(event_type) for event_type in EventType))
_FLASHES = {
    "saved": "The endpoint was saved.",
    "deleted": "The endpoint was deleted; nothing more is sent to it.",
}


@dataclass(frozen=True, slots=True)
class EndpointForm:
    """An endpoint's form as typed (or as stored), and the messages beside its fields."""

    url: str = ""
    event_types: tuple[str, ...] = (ALL_EVENTS,)
    description: str = ""
    enabled: bool = True
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointForm:
        return cls(endpoint.url, endpoint.event_types, endpoint.description or "", endpoint.enabled)

    @classmethod
    def read(cls, form: FormData) -> EndpointForm:
        return cls(
            url=field_of(form, "url").strip(),
            event_types=tuple(fields(form, "event_types")),
            description=field_of(form, "description").strip(),
            enabled=field_of(form, "enabled") == "on",
        )

    def refused(self, error: SeatledgerError) -> EndpointForm:
        """The form again, each of the error's messages beside its field (``event_types[2]``
        is the events' fieldset); what names no field of the form goes beside the URL."""
        errors: dict[str, str] = {}
        for name, message in error.errors or (("url", error.detail),):
            key = name.split("[", 1)[0]
            key = key if key in ("url", "event_types", "description") else "url"
            errors.setdefault(key, message)
        return EndpointForm(self.url, self.event_types, self.description, self.enabled, errors)


def _cursor(request: Request) -> str | None:
    cursor = request.query_params.get("cursor")
    return cursor if cursor and len(cursor) <= 40 else None


def _flashes(request: Request) -> list[dict[str, Any]]:
    return [{"text": text} for key, text in _FLASHES.items() if key in request.query_params]


def _endpoint_id(endpoint_id: str) -> str:
    return check_id(endpoint_id, "webhook endpoint")


async def _list_page(
    request: Request, who: Merchant, form: EndpointForm, *, status: int = 200
) -> Response:
    page = await webhook_endpoints.list_webhook_endpoints(
        runtime(request), limit=100, cursor=_cursor(request)
    )
    context = {
        "who": who,
        "page": page,
        "form": form,
        "choices": EVENT_CHOICES,
        "flashes": _flashes(request),
    }
    return await render(request, "dashboard/webhooks.html", context, status=status)


async def _endpoint_page(
    request: Request, who: Merchant, endpoint_id: str, form: EndpointForm | None = None
) -> Response:
    rt = runtime(request)
    endpoint = await webhook_endpoints.get_webhook_endpoint(rt, _endpoint_id(endpoint_id))
    page = await webhook_deliveries.list_deliveries(
        rt, endpoint.id, limit=100, cursor=_cursor(request)
    )
    flashes = _flashes(request)
    if (retried := request.query_params.get("retried")) is not None:
        flashes.append({"text": f"The delivery was sent again: {retried}."})
    context = {
        "who": who,
        "endpoint": endpoint,
        "page": page,
        "form": form or EndpointForm.of(endpoint),
        "choices": EVENT_CHOICES,
        "flashes": flashes,
    }
    status = 200 if form is None or not form.errors else 422
    return await render(request, "dashboard/deliveries.html", context, status=status)


@router.get("/dashboard/webhooks")
async def endpoints(request: Request, who: DashboardCaller) -> Response:
    return await _list_page(request, who, EndpointForm())


@router.post("/dashboard/webhooks", dependencies=CSRF)
async def create(request: Request, who: DashboardCaller) -> Response:
    form = EndpointForm.read(await request.form())
    try:
        endpoint = await webhook_endpoints.create_webhook_endpoint(
            runtime(request),
            url=form.url,
            event_types=form.event_types,
            description=form.description or None,
        )
    except SeatledgerError as error:
        return await _list_page(request, who, form.refused(error), status=status_for(error))
    # The secret is in this answer only (never in a URL, a redirect or a log), as in the API's.
    response = await render(
        request, "dashboard/webhook_created.html", {"who": who, "endpoint": endpoint}, status=201
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/dashboard/webhooks/{endpoint_id}")
async def deliveries(request: Request, endpoint_id: str, who: DashboardCaller) -> Response:
    return await _endpoint_page(request, who, endpoint_id)


@router.post("/dashboard/webhooks/{endpoint_id}", dependencies=CSRF)
async def update(request: Request, endpoint_id: str, who: DashboardCaller) -> Response:
    form = EndpointForm.read(await request.form())
    try:
        endpoint = await webhook_endpoints.update_webhook_endpoint(
            runtime(request),
            _endpoint_id(endpoint_id),
            url=form.url,
            event_types=form.event_types,
            description=form.description or None,
            enabled=form.enabled,
        )
    except SeatledgerError as error:
        if not error.errors:  # an unknown endpoint: the page says so
            raise
        return await _endpoint_page(request, who, endpoint_id, form.refused(error))
    return RedirectResponse(f"/dashboard/webhooks/{endpoint.id}?saved=1", status_code=303)


@router.get("/dashboard/webhooks/{endpoint_id}/delete")
async def delete_confirmation(request: Request, endpoint_id: str, who: DashboardCaller) -> Response:
    """Asks before deleting (a GET: nothing changes until the form is sent)."""
    endpoint = await webhook_endpoints.get_webhook_endpoint(
        runtime(request), _endpoint_id(endpoint_id)
    )
    return await render(
        request, "dashboard/webhook_delete.html", {"who": who, "endpoint": endpoint}
    )


@router.post("/dashboard/webhooks/{endpoint_id}/delete", dependencies=CSRF)
async def delete(request: Request, endpoint_id: str, who: DashboardCaller) -> Response:
    await webhook_endpoints.delete_webhook_endpoint(runtime(request), _endpoint_id(endpoint_id))
    return RedirectResponse("/dashboard/webhooks?deleted=1", status_code=303)


@router.post("/dashboard/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry", dependencies=CSRF)
async def retry(
    request: Request, endpoint_id: str, delivery_id: str, who: DashboardCaller
) -> Response:
    delivery = await webhook_deliveries.retry_delivery(
        runtime(request), _endpoint_id(endpoint_id), check_id(delivery_id, "webhook delivery")
    )
    return RedirectResponse(
        f"/dashboard/webhooks/{delivery.endpoint_id}?retried={delivery.status}", status_code=303
    )


__all__ = ["EndpointForm", "router"]
