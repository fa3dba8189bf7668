"""Companies in the dashboard: search by name, member email or external id; one company's
members, subscriptions, orders, seats, seat alerts and invoices; handing the billing manager
role over and setting the seat alerts (``web.seat_alerts_form``, the portal's form). Through
the services ``/v1/companies`` uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.company import Company
from seatledger.domain.ids import check_id
from seatledger.domain.purchase import Order, Subscription
from seatledger.errors import SeatledgerError
from seatledger.services import companies, invoicing, purchases, seat_alerts, seats
from seatledger.services.pages import Page
from seatledger.web import csrf
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.forms import field
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller, Merchant
from seatledger.web.seat_alerts_form import refusal_of, thresholds_of
from seatledger.web.statuses import status_for
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)
SEARCH_BY = ("name", "email", "external_id")


@router.get("/dashboard/companies")
async def search(request: Request, who: DashboardCaller) -> Response:
    by = request.query_params.get("by", "name")
    by = by if by in SEARCH_BY else "name"
    query = request.query_params.get("q", "").strip()[:254]
    cursor = request.query_params.get("cursor") or None
    error = None
    page: Page[Company] = Page((), False, None)
    try:
        page = await companies.list_companies(
            runtime(request),
            limit=50,
            cursor=cursor if cursor and len(cursor) <= 40 else None,
            **({by: query} if query else {}),
        )
    except SeatledgerError as error_:
        error = error_.detail
    context = {"who": who, "page": page, "by": by, "q": query, "error": error}
    return await render(request, "dashboard/companies.html", context)


async def _company_page(
    request: Request,
    who: Merchant,
    company_id: str,
    *,
    error: str | None = None,
    status: int = 200,
    **alerts_form: Any,
) -> Response:
    """``alerts_form``: the seat alerts' ``alerts_typed`` and ``alerts_errors`` (by product)
    when their form is shown again."""
    rt = runtime(request)
    company = await companies.get_company(rt, check_id(company_id, "company"))
    subscriptions = await purchases.list_subscriptions(rt, company_id=company.id, limit=100)
    orders = await purchases.list_orders(rt, company_id=company.id, limit=100)
    pools: list[tuple[Subscription | Order, seats.SeatList]] = []
    for subscription in subscriptions.data:
        listed = await seats.list_seats(
            rt, subscription_id=subscription.id, include_revoked=True, limit=100
        )
        pools.append((subscription, listed))
    for order in orders.data:
        listed = await seats.list_seats(rt, order_id=order.id, include_revoked=True, limit=100)
        pools.append((order, listed))
    context = {
        "who": who,
        "company": company,
        "members": await companies.list_members(rt, company.id, limit=100),
        "subscriptions": subscriptions,
        "orders": orders,
        "pools": pools,
        "invoices": await invoicing.list_invoices(rt, company_id=company.id, limit=100),
        "alerts": await seat_alerts.seat_alert_overview(rt, company.id),
        "alerts_action": f"/dashboard/companies/{company.id}/seat-alerts",
        "alerts_typed": {},
        "alerts_errors": {},
        **alerts_form,
        "flashes": [{"text": error, "error": True}] if error else _flashes(request),
    }
    return await render(request, "dashboard/company.html", context, status=422 if error else status)


def _flashes(request: Request) -> list[dict[str, object]]:
    if request.query_params.get("handed_over"):
        return [{"text": "The billing manager role was handed over."}]
    if request.query_params.get("alerts_saved"):
        return [{"text": "The seat alerts were saved."}]
    return []


@router.get("/dashboard/companies/{company_id}")
async def show(request: Request, company_id: str, who: DashboardCaller) -> Response:
    return await _company_page(request, who, company_id)


@router.post(
    "/dashboard/companies/{company_id}/billing-manager", dependencies=[Depends(csrf.require)]
)
async def hand_over(request: Request, company_id: str, who: DashboardCaller) -> Response:
    company = await companies.get_company(runtime(request), check_id(company_id, "company"))
    member_id = field(await request.form(), "member_id")
    try:
        await companies.update_company(
            runtime(request), company.id, billing_manager_member_id=member_id
        )
    except SeatledgerError as error:
        return await _company_page(request, who, company.id, error=error.detail)
    return RedirectResponse(f"/dashboard/companies/{company.id}?handed_over=1", status_code=303)


@router.post(
    "/dashboard/companies/{company_id}/seat-alerts/{product_id}",
    dependencies=[Depends(csrf.require)],
)
async def set_seat_alerts(
    request: Request, company_id: str, product_id: str, who: DashboardCaller
) -> Response:
    """One product's thresholds, through the API's service; a refusal shows the company page
    again with the message beside the product's field."""
    rt = runtime(request)
    company = await companies.get_company(rt, check_id(company_id, "company"))
    product_id = check_id(product_id, "product")
    typed = field(await request.form(), "thresholds")
    try:
        await seat_alerts.set_seat_alerts(rt, company.id, product_id, thresholds_of(typed))
    except SeatledgerError as error:
        if not error.errors or error.errors[0][0] == "product_id":
            raise  # not the field's fault: the error page (404 for a product)
        return await _company_page(
            request,
            who,
            company.id,
            status=status_for(error),
            alerts_typed={product_id: typed},
            alerts_errors={product_id: refusal_of(error, typed)},
        )
    return RedirectResponse(f"/dashboard/companies/{company.id}?alerts_saved=1", status_code=303)
