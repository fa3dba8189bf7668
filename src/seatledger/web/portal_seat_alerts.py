"""Seat alerts in the billing manager's portal: each product's thresholds beside its usage,
and a form per product to set them.

``GET /portal/seat-alerts`` lists the company's products (live seats or thresholds) with used
of limit, the percent and the thresholds reached; ``POST /portal/seat-alerts/{product_id}``
sets one product's thresholds through the API's own service (``services.seat_alerts``), so the
rule and its errors are the API's. The billing manager may set them (the alert emails are
theirs); a plain member gets 403 like on every manager's page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from seatledger.domain.ids import check_id
from seatledger.errors import SeatledgerError
from seatledger.services import companies, seat_alerts
from seatledger.services.callers import Caller
from seatledger.web import csrf
from seatledger.web.portal_notices import Notice, redirect
from seatledger.web.portal_route import PortalRoute, manager_company, page, rt_of, text_of
from seatledger.web.portal_session import PortalCaller
from seatledger.web.seat_alerts_form import refusal_of, thresholds_of
from seatledger.web.statuses import status_for

router = APIRouter(route_class=PortalRoute, include_in_schema=False)
CSRF = [Depends(csrf.require)]
PATH = "/portal/seat-alerts"


async def _alerts_page(
    request: Request, caller: Caller, *, status: int = 200, **extra: Any
) -> Response:
    rt = rt_of(request)
    company_id = manager_company(caller)
    context = {
        "company": await companies.get_company(rt, company_id),
        "products": await seat_alerts.seat_alert_overview(rt, company_id),
        "action": PATH,
        "form": {},
        "errors": {},
        **extra,
    }
    return await page(request, "portal/seat_alerts.html", context, status=status)


@router.get(PATH)
async def seat_alerts_page(request: Request, caller: PortalCaller) -> Response:
    return await _alerts_page(request, caller)


@router.post(PATH + "/{product_id}", dependencies=CSRF)
async def set_seat_alerts(request: Request, product_id: str, caller: PortalCaller) -> Response:
    """A refusal shows the page again with the message beside the product's field."""
    company_id = manager_company(caller)
    product_id = check_id(product_id, "product")
    typed = text_of(await request.form(), "thresholds", limit=1000)
    try:
        thresholds = thresholds_of(typed)
        alerts = await seat_alerts.set_seat_alerts(
            rt_of(request), company_id, product_id, thresholds
        )
    except SeatledgerError as error:
        if not error.errors or error.errors[0][0] == "product_id":
            raise  # not the field's fault: the route's error page (404 for a product)
        return await _alerts_page(
            request,
            caller,
            status=status_for(error),
            form={product_id: typed},
            errors={product_id: refusal_of(error, typed)},
        )
    return await redirect(request, PATH, [Notice(saved(alerts, product_id))])


def saved(alerts: list[seat_alerts.ProductAlerts], product_id: str) -> str:
    """What the page says after a save: the product's thresholds as they now are."""
    for alert in alerts:
        if alert.product_id == product_id:
            return "Seat alerts saved: " + ", ".join(f"{t}%" for t in alert.thresholds) + "."
    return "Seat alerts removed."


__all__ = ["router", "saved"]
