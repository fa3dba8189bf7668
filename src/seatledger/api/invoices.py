"""Invoices: read them, and pay an open one (SPEC §3, §6)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field

from seatledger.api.auth import Reader, Writer
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
    optional_id,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.ids import check_id
from seatledger.domain.invoice import Invoice, InvoiceLine
from seatledger.services import (
    invoice_documents,
    invoice_payments,
    invoicing,
    subscription_invoices,
)

router = APIRouter(tags=["invoices"], route_class=JsonRoute)


class LineOut(OutModel):
    description: str
    quantity: int
    unit_amount: int
    amount: int
    period_start: Timestamp | None
    period_end: Timestamp | None
    kind: Literal["base", "seats", "proration", "credit"]


class InvoiceOut(OutModel):
    id: str
    number: str | None
    status: Literal["draft", "open", "paid", "void", "uncollectible"] = Field(
        description="`uncollectible`: only an invoice of the payment provider's (`provider`)."
    )
    currency: str
    subtotal: int
    credit_applied: int
    total: int
    lines: list[LineOut]
    company_id: str | None
    subscription_id: str | None
    order_id: str | None
    reason: str
    period_start: Timestamp | None
    period_end: Timestamp | None
    created_at: Timestamp
    paid_at: Timestamp | None
    payment_url: str | None = Field(
        default=None,
        description="Where the customer finishes a payment that waits for them (3-D Secure"
        " with Stripe) while the invoice is open; null otherwise.",
    )
    provider: Literal["stripe"] | None = Field(
        default=None,
        description="Null: seatledger's own invoice. `stripe`: an invoice Stripe made and keeps"
        " (`SEATLEDGER_STRIPE_MODE=billing`), mirrored here; its id and number are Stripe's.",
    )
    hosted_invoice_url: str | None = Field(
        default=None,
        description="The provider's page of the invoice (Stripe's hosted invoice page), where"
        " the customer sees it and, while it is open, pays it; null for seatledger's own.",
    )


class PayIn(ApiModel):
    payment_method: Text


def line_out(line: InvoiceLine) -> LineOut:
    return LineOut.model_validate(line, from_attributes=True)


def invoice_out(invoice: Invoice) -> InvoiceOut:
    return InvoiceOut.model_validate(invoice, from_attributes=True)


@router.get(
    "/v1/invoices",
    summary="List invoices",
    responses=responses(401, 403, 404, 422),
)
async def list_invoices(
    rt: RuntimeDep,
    who: Reader,
    company_id: str | None = None,
    subscription_id: str | None = None,
    order_id: str | None = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[InvoiceOut]:
    """The invoices of one company, subscription or order (at most one of them), oldest first.
    A customer session that leaves all three out lists its own company's; an API key, every
    invoice, newest first."""
    if who.session is not None and company_id is subscription_id is order_id is None:
        company_id = who.session.company_id
    page = await invoicing.list_invoices(
        rt,
        company_id=optional_id(company_id, "company", field="company_id"),
        subscription_id=optional_id(subscription_id, "subscription", field="subscription_id"),
        order_id=optional_id(order_id, "order", field="order_id"),
        limit=limit,
        cursor=cursor_of(cursor),
        scope_company_id=who.company_scope,
    )
    who.require_manager()
    return ListOut[InvoiceOut](**list_of(page, invoice_out))


@router.get(
    "/v1/subscriptions/{subscription_id}/invoices",
    summary="List a subscription's invoices, seatledger's and Stripe's",
    responses=responses(401, 403, 404, 422),
)
async def list_subscription_invoices(
    subscription_id: str,
    rt: RuntimeDep,
    who: Reader,
    limit: Limit = None,
    cursor: Annotated[str | None, Query(max_length=255)] = None,
) -> ListOut[InvoiceOut]:
    """Every invoice of the subscription, oldest first: seatledger's own and, when Stripe
    Billing bills it (`SEATLEDGER_STRIPE_MODE=billing`), Stripe's, mirrored from its webhooks,
    in the same shape with `provider: "stripe"` and `hosted_invoice_url`. The same access as
    `GET /v1/invoices?subscription_id=`."""
    page = await subscription_invoices.list_subscription_invoices(
        rt,
        check_id(subscription_id, "subscription"),
        limit=limit,
        cursor=cursor,
        scope_company_id=who.company_scope,
    )
    who.require_manager()
    return ListOut[InvoiceOut](**list_of(page, invoice_out))


@router.get(
    "/v1/invoices/{invoice_id}",
    summary="Get an invoice",
    responses=responses(401, 403, 404),
)
async def get_invoice(invoice_id: str, rt: RuntimeDep, who: Reader) -> InvoiceOut:
    invoice = await invoicing.get_invoice(
        rt, check_id(invoice_id, "invoice"), scope_company_id=who.company_scope
    )
    who.require_manager()
    return invoice_out(invoice)


@router.get(
    "/v1/invoices/{invoice_id}/pdf",
    summary="Get an invoice as a PDF",
    response_class=Response,
    responses={
        200: {
            "description": "The invoice as a PDF document.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        },
        **responses(401, 403, 404),
    },
)
async def get_invoice_pdf(invoice_id: str, rt: RuntimeDep, who: Reader) -> Response:
    """Number, dates, seller (`SEATLEDGER_MERCHANT_NAME`) and buyer, every line with its
    description, quantity, unit amount and amount, subtotal, credit applied, total, status.
    The same access as `GET /v1/invoices/{invoice_id}`."""
    document, pdf = await invoice_documents.invoice_pdf(rt, invoice_id, who)
    filename = invoice_documents.pdf_filename(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post(
    "/v1/invoices/{invoice_id}/pay",
    summary="Pay an open invoice",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 402, 403, 404, 409, 422),
)
async def pay_invoice(invoice_id: str, body: PayIn, rt: RuntimeDep, who: Writer) -> InvoiceOut:
    """Pays at once; a `past_due` subscription is `active` again once its open invoices are
    paid. 402 `payment_failed` when declined (the invoice stays open); 409 `invoice_not_open`
    for a paid or void invoice; 422 `validation_error` naming `payment_method` for a method the
    payment provider does not know (nothing changes)."""
    invoice_id = check_id(invoice_id, "invoice")
    await who.manager_for(
        lambda: invoicing.get_invoice(rt, invoice_id, scope_company_id=who.company_scope)
    )
    invoice = await invoice_payments.pay_invoice(
        rt, invoice_id, payment_method=body.payment_method, scope_company_id=who.company_scope
    )
    return invoice_out(invoice)
