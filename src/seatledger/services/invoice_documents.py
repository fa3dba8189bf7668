"""Invoices as documents (SPEC §11): the neutral view and its PDF, for the API, the portal and
the dashboard alike.

Who may read one is ``GET /v1/invoices/{id}``'s rule: the merchant (an API key, a dashboard
user), or the billing manager of the invoice's company; another company's invoice is not
found, a plain member is forbidden. The seller is the merchant (``SEATLEDGER_MERCHANT_NAME``);
the buyer, the company and its billing manager's email.
"""

from __future__ import annotations

import asyncio

from seatledger.adapters.documents.invoice_pdf import render_invoice_pdf, system_font
from seatledger.domain.errors import NotFound
from seatledger.domain.ids import check_id
from seatledger.domain.invoice import Invoice
from seatledger.domain.invoice_document import InvoiceDocument, invoice_document
from seatledger.services import companies, invoicing
from seatledger.services.callers import Caller
from seatledger.services.runtime import Runtime

NO_COMPANY = "Not yet attached to a company"


async def _buyer(rt: Runtime, invoice: Invoice) -> tuple[str, str | None]:
    if invoice.company_id is None:
        return NO_COMPANY, None
    company = await companies.get_company(rt, invoice.company_id)
    try:
        manager = await companies.get_member(
            rt, company.billing_manager_member_id, company_id=company.id
        )
    except NotFound:  # handed over between the two reads: the name is enough
        return company.name, None
    return company.name, manager.email


async def document_of(rt: Runtime, invoice_id: str, caller: Caller) -> InvoiceDocument:
    """The invoice ``invoice_id`` as a document, if ``caller`` may read it."""
    invoice = await invoicing.get_invoice(
        rt, check_id(invoice_id, "invoice"), scope_company_id=caller.company_scope
    )
    caller.require_manager()
    name, email = await _buyer(rt, invoice)
    return invoice_document(
        invoice, seller=rt.settings.merchant_name, buyer_name=name, buyer_email=email
    )


async def invoice_pdf(
    rt: Runtime, invoice_id: str, caller: Caller
) -> tuple[InvoiceDocument, bytes]:
    """The document and its PDF (drawn in a worker thread: it takes a few milliseconds)."""
    document = await document_of(rt, invoice_id, caller)
    pdf = await asyncio.to_thread(render_invoice_pdf, document, font=system_font())
    return document, pdf


def pdf_filename(document: InvoiceDocument) -> str:
    return f"{document.number if document.number != 'Draft' else document.invoice_id}.pdf"


__all__ = ["document_of", "invoice_pdf", "pdf_filename"]
