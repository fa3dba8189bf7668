"""Invoices as PDF (SPEC §11): ``GET /v1/invoices/{id}/pdf`` with the access rules of ``GET
/v1/invoices/{id}``, and a document that says what the invoice says."""

from __future__ import annotations

import re
from datetime import timedelta

from seatledger.adapters.documents.invoice_pdf import render_invoice_pdf
from seatledger.domain.clock import FixedClock
from seatledger.pricing.money import format_amount
from seatledger.services import invoice_documents
from seatledger.services.callers import Caller
from tests.e2e.api import Api


async def _raised_invoice(api: Api, clock: FixedClock) -> tuple[dict, dict, str]:
    """Acme buys 3 seats, half a month later raises to 8: (company, the change's invoice,
    the subscription id)."""
    subscription_id, company = await api.subscription(seats=3)
    clock.advance(timedelta(days=15))
    await api.call("PATCH", f"/v1/subscriptions/{subscription_id}", 200, json={"seats": 8})
    invoices = await api.get(f"/v1/invoices?subscription_id={subscription_id}")
    change = next(i for i in invoices["data"] if i["reason"] == "subscription_update")
    return company, change, subscription_id


async def test_the_pdf_says_what_the_invoice_says(api: Api, clock: FixedClock) -> None:
    _company, invoice, _ = await _raised_invoice(api, clock)
    answer = await api.call("GET", f"/v1/invoices/{invoice['id']}/pdf", 200)
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    assert f"(Invoice {invoice['number']})".encode() in answer.content  # the title, in clear
    assert f'filename="{invoice["number"]}.pdf"' in answer.headers["content-disposition"]

    document = await invoice_documents.document_of(api.runtime, invoice["id"], Caller("key:test"))
    assert document.number == invoice["number"]
    assert (document.buyer_name, document.buyer_email) == ("Acme", "boss@acme.test")
    assert document.seller == api.runtime.settings.merchant_name
    assert [line.amount for line in document.lines] == [x["amount"] for x in invoice["lines"]]
    assert (document.subtotal, document.credit_applied, document.total) == (
        invoice["subtotal"],
        invoice["credit_applied"],
        invoice["total"],
    )
    (line,) = document.lines
    assert re.fullmatch(r"Seats 3 → 8, [A-Z][a-z]{2} \d+ – [A-Z][a-z]{2} \d+", line.description)

    # The drawing commands, uncompressed with the built-in font, hold every part in clear.
    text = render_invoice_pdf(document, font=None, compress=False).decode("latin-1")
    for needed in (
        f"Invoice {invoice['number']}",
        f"Status: {invoice['status']}",
        "Acme",
        "boss@acme.test",
        document.seller,
        line.description.replace("→", "->").replace("–", "-"),
        format_amount(line.amount, "usd"),
        format_amount(invoice["total"], "usd"),
        "Subtotal",
        "Credit applied",
        "Total",
    ):
        assert needed.replace("(", "\\(").replace(")", "\\)") in text, needed


async def test_the_pdf_is_documented_as_binary(api: Api) -> None:
    operation = (await api.get("/openapi.json"))["paths"]["/v1/invoices/{invoice_id}/pdf"]["get"]
    assert operation["operationId"] == "get_invoice_pdf"
    content = operation["responses"]["200"]["content"]
    assert content == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert {"401", "403", "404"} <= set(operation["responses"])


async def test_who_may_read_the_pdf(api: Api, clock: FixedClock) -> None:
    company, invoice, _ = await _raised_invoice(api, clock)
    path = f"/v1/invoices/{invoice['id']}/pdf"
    manager = await api.session(company["billing_manager_member_id"])
    assert (await api.call("GET", path, 200, token=manager)).content.startswith(b"%PDF")

    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test"})
    plain = await api.session(member["id"])
    assert (await api.call("GET", path, 403, token=plain)).json()["code"] == "forbidden"

    other = await api.company(email="boss@other.test", name="Other")
    stranger = await api.session(other["billing_manager_member_id"])
    assert (await api.call("GET", path, 404, token=stranger)).json()["code"] == "not_found"

    await api.call("GET", path, 401, headers={"Authorization": ""})
    await api.call("GET", "/v1/invoices/inv_00000000000000000000000000/pdf", 404)
    for malformed in ("x", "inv_%00", "%FF" * 20, "1" * 300):
        answer = await api.call("GET", f"/v1/invoices/{malformed}/pdf")
        assert answer.status_code == 404, (malformed, answer.text)
