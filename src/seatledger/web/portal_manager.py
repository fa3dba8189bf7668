"""The billing manager's portal (SPEC §11): the company at a glance, and its invoices.

``GET /portal/manage`` shows each subscription and order with its pool, the credit balance per
currency and the latest invoices; ``/portal/invoices`` lists them all and
``/portal/invoices/{id}`` shows one. The pools' own pages (seats, invitations, changes) are
``portal_pools`` and ``portal_changes``. Access is the API's (``services.callers.Caller``): a
plain member gets 403, another company's objects are 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from seatledger.domain.ids import check_id
from seatledger.domain.invoice import Invoice
from seatledger.services import (
    companies,
    credit,
    invoice_documents,
    invoicing,
    purchases,
    subscription_invoices,
)
from seatledger.services.runtime import Runtime
from seatledger.web.portal_route import PortalRoute, cursor_of, manager_company, page, rt_of
from seatledger.web.portal_session import PortalCaller
from seatledger.web.portal_views import (
    REASONS,
    Offers,
    order_href,
    order_view,
    subscription_href,
    subscription_view,
)

router = APIRouter(route_class=PortalRoute, include_in_schema=False)

LATEST_INVOICES = 5
LIST_LIMIT = 100  # subscriptions and orders on the home page; more is a merchant's business


@router.get("/portal/manage")
async def manage(request: Request, caller: PortalCaller) -> Response:
    rt = rt_of(request)
    company_id = manager_company(caller)
    company = await companies.get_company(rt, company_id)
    offers = Offers(rt)
    subs = await purchases.list_subscriptions(rt, company_id=company_id, limit=LIST_LIMIT)
    orders = await purchases.list_orders(rt, company_id=company_id, limit=LIST_LIMIT)
    latest = await invoicing.list_invoices(rt, scope_company_id=company_id, limit=LATEST_INVOICES)
    context = {
        "company": company,
        "subscriptions": [await subscription_view(offers, s) for s in subs.data],
        "orders": [await order_view(offers, o) for o in orders.data],
        "balances": await credit.company_balance(rt, company_id, scope_company_id=company_id),
        "invoices": latest.data,
        "more_invoices": latest.has_more,
        "reasons": REASONS,
        "sandbox": rt.settings.sandbox,
    }
    return await page(request, "portal/manage.html", context)


@router.get("/portal/invoices")
async def invoices(request: Request, caller: PortalCaller, cursor: str | None = None) -> Response:
    rt = rt_of(request)
    company_id = manager_company(caller)
    found = await invoicing.list_invoices(
        rt, scope_company_id=company_id, limit=LIST_LIMIT, cursor=cursor_of(cursor)
    )
    context = {
        "invoices": found.data,
        "next_cursor": found.next_cursor,
        "reasons": REASONS,
        # ``billing`` mode: Stripe's own invoices, shown on (and paid through) Stripe's pages.
        "provider_invoices": await subscription_invoices.provider_invoices_of_company(
            rt, company_id, limit=LIST_LIMIT
        ),
    }
    return await page(request, "portal/invoices.html", context)


def _owner(invoice: Invoice) -> dict[str, str] | None:
    """The link to the subscription or the order the invoice bills."""
    if invoice.subscription_id is not None:
        return {"href": subscription_href(invoice.subscription_id), "text": "The subscription"}
    if invoice.order_id is not None:
        return {"href": order_href(invoice.order_id), "text": "The order"}
    return None


def seller(rt: Runtime) -> dict[str, str]:
    """Who bills: the merchant's name (``SEATLEDGER_MERCHANT_NAME``, as on the PDF) and its
    sender address."""
    return {"name": rt.settings.merchant_name, "email": rt.settings.email_from}


@router.get("/portal/invoices/{invoice_id}")
async def invoice(request: Request, invoice_id: str, caller: PortalCaller) -> Response:
    rt = rt_of(request)
    found = await invoicing.get_invoice(
        rt, check_id(invoice_id, "invoice"), scope_company_id=caller.company_scope
    )
    caller.require_manager()
    company_id = manager_company(caller)
    company = await companies.get_company(rt, company_id)
    manager = await companies.get_member(
        rt, company.billing_manager_member_id, company_id=company_id
    )
    context = {
        "invoice": found,
        "company": company,
        "manager": manager,
        "seller": seller(rt),
        "reason": REASONS.get(found.reason, found.reason),
        "owner": _owner(found),
    }
    return await page(request, "portal/invoice.html", context)


@router.get("/portal/invoices/{invoice_id}/pdf")
async def invoice_pdf(request: Request, invoice_id: str, caller: PortalCaller) -> Response:
    """The invoice as PDF, by the API's rules (``GET /v1/invoices/{id}/pdf``): the billing
    manager's company's only."""
    document, pdf = await invoice_documents.invoice_pdf(rt_of(request), invoice_id, caller)
    filename = invoice_documents.pdf_filename(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


__all__ = ["router", "seller"]
