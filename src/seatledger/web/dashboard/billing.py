"""Subscriptions, orders and invoices across every company, newest first, and an invoice's
PDF (``seatledger.services.invoice_documents``, as ``GET /v1/invoices/{id}/pdf``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seatledger.services import invoice_documents, invoicing, purchases
from seatledger.web.cookies import runtime
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.dashboard.session import DashboardCaller
from seatledger.web.templating import render

router = APIRouter(include_in_schema=False, route_class=DashboardRoute)


def _cursor(request: Request) -> str | None:
    cursor = request.query_params.get("cursor")
    return cursor if cursor and len(cursor) <= 40 else None


@router.get("/dashboard/subscriptions")
async def subscriptions(request: Request, who: DashboardCaller) -> Response:
    page = await purchases.list_subscriptions(runtime(request), limit=50, cursor=_cursor(request))
    return await render(request, "dashboard/subscriptions.html", {"who": who, "page": page})


@router.get("/dashboard/orders")
async def orders(request: Request, who: DashboardCaller) -> Response:
    page = await purchases.list_orders(runtime(request), limit=50, cursor=_cursor(request))
    return await render(request, "dashboard/orders.html", {"who": who, "page": page})


@router.get("/dashboard/invoices")
async def invoices(request: Request, who: DashboardCaller) -> Response:
    page = await invoicing.list_invoices(runtime(request), limit=50, cursor=_cursor(request))
    return await render(request, "dashboard/invoices.html", {"who": who, "page": page})


@router.get("/dashboard/invoices/{invoice_id}/pdf")
async def invoice_pdf(request: Request, invoice_id: str, who: DashboardCaller) -> Response:
    document, pdf = await invoice_documents.invoice_pdf(runtime(request), invoice_id, who.caller)
    filename = invoice_documents.pdf_filename(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
