"""Companies in the dashboard: search by name, member email or external id; one company's
members, subscriptions, orders, seats and invoices; handing the billing manager role over.
Through the services ``/v1/companies`` uses."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seatledger.domain.company import Company
from seatledger.domain.ids import check_id
from seatledger.domain.purchase import Order, Subscription
from seatledger.errors import SeatledgerError
from seatledger.services import companies, invoicing, purchases, seats
from seatledger.services.pages import Page
from seatledger.web import csrf
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.forms import field
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller, Merchant
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
    request: Request, who: Merchant, company_id: str, *, error: str | None = None
) -> Response:
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
        "flashes": [{"text": error, "error": True}] if error else _flashes(request),
    }
    return await render(request, "dashboard/company.html", context, status=422 if error else 200)


def _flashes(request: Request) -> list[dict[str, object]]:
    if request.query_params.get("handed_over"):
        return [{"text": "The billing manager role was handed over."}]
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
