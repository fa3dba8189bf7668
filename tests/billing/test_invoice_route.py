"""Stripe's invoices of a subscription it bills, shown where a merchant looks for them:
``GET /v1/subscriptions/{id}/invoices`` lists seatledger's own and Stripe's mirrored ones in one
shape, oldest first and paged, Stripe's with ``provider: "stripe"``, their Stripe number and
hosted page (and, while open, that page as ``payment_url``). ``GET /v1/invoices`` stays
seatledger's own."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.domain.clock import FixedClock
from seatledger.domain.errors import PaymentFailed
from seatledger.services import customer_sessions, provider_subscriptions
from seatledger.services.runtime import Runtime
from seatledger.services.subscriptions import change_subscription
from tests.fakes.stripe import FakeStripe
from tests.integration import shop
from tests.stripe.conftest import Server, apply_events, settle

pytestmark = pytest.mark.db


async def _listed(server: Server, sub_id: str, **params: Any) -> dict[str, Any]:
    response = await server.client.get(f"/v1/subscriptions/{sub_id}/invoices", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_subscriptions_invoices_show_stripes_beside_seatledgers(
    server: Server,
    runtime: Runtime,
    billing: StripeBilling,
    customer: str,
    fake: FakeStripe,
    clock: FixedClock,
) -> None:
    # Stripe dates its invoices by the wall clock: the sandbox's is set just before it.
    clock.set(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    server.runtime.billing = billing
    rt = replace(runtime, billing=billing)
    (price_id,) = await shop.product(rt, shop.per_seat(1000, base_amount=500, included_seats=1))
    sub_id = await shop.subscribe(rt, price_id, await shop.company(rt), 3)
    await provider_subscriptions.start_billing(rt, billing, sub_id, customer=customer)
    fake.store.declining.add(customer)
    with pytest.raises(PaymentFailed):
        await change_subscription(rt, sub_id, seats=5, proration_behavior="invoice")
    await _events_applied(server, fake)

    listed = await _listed(server, sub_id)

    own, *stripes = listed["data"]
    assert (own["provider"], own["hosted_invoice_url"]) == (None, None)
    assert own["number"].startswith("INV-")
    by_reason = {i["reason"]: i for i in stripes}
    first, proration = by_reason["subscription_create"], by_reason["subscription_update"]
    remote = {i["id"]: i for i in fake.objects("invoice")}
    for invoice in (first, proration):
        assert invoice["provider"] == "stripe"
        assert invoice["subscription_id"] == sub_id
        assert invoice["number"] == remote[invoice["id"]]["number"]
        assert invoice["hosted_invoice_url"] == remote[invoice["id"]]["hosted_invoice_url"]
    assert (first["status"], first["total"], first["subtotal"]) == ("paid", 2500, 2500)
    assert [(li["kind"], li["quantity"], li["unit_amount"]) for li in first["lines"]] == [
        ("base", 1, 500),
        ("seats", 2, 1000),
    ]
    assert first["payment_url"] is None
    assert first["paid_at"] is not None
    # Open at Stripe: its hosted page is where the customer pays it.
    assert proration["status"] == "open"
    assert proration["payment_url"] == proration["hosted_invoice_url"]
    assert [li["kind"] for li in proration["lines"]] == ["proration"]

    ids = [i["id"] for i in listed["data"]]
    walked, cursor = [], None
    while True:
        page = await _listed(server, sub_id, limit=1, **({"cursor": cursor} if cursor else {}))
        walked += [i["id"] for i in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert walked == ids
    only_own = (await server.client.get("/v1/invoices", params={"subscription_id": sub_id})).json()
    assert [i["id"] for i in only_own["data"]] == [own["id"]]

    # The billing manager's portal lists Stripe's beside seatledger's, linked to Stripe's pages.
    html = await _portal_invoices(server, str(own["company_id"]))
    assert own["number"] in html
    for invoice in (first, proration):
        assert (
            f'<a href="{invoice["hosted_invoice_url"]}" rel="noopener">{invoice["number"]}</a>'
            in html
        )


async def _portal_invoices(server: Server, company_id: str) -> str:
    session = await customer_sessions.create_customer_session(
        server.runtime, member_id=await _manager(server, company_id)
    )
    async with httpx.AsyncClient(base_url=server.url) as browser:
        browser.cookies.set("sl_portal", session.token)
        page = await browser.get("/portal/invoices")
    assert page.status_code == 200, page.text
    return page.text


async def test_another_companys_subscription_and_a_foreign_cursor_are_refused(
    server: Server, fake: FakeStripe
) -> None:
    rt = server.runtime
    (price_id,) = await shop.product(rt)
    mine = await shop.company(rt)
    other = await shop.company(rt, "boss@other.test")
    theirs = await shop.subscribe(rt, price_id, other, 1, payment_method="pm_card_visa")
    session = await customer_sessions.create_customer_session(
        rt, member_id=await _manager(server, mine)
    )
    headers = {"Authorization": f"Bearer {session.token}"}

    hidden = await server.client.get(f"/v1/subscriptions/{theirs}/invoices", headers=headers)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found")
    bad = await server.client.get(
        f"/v1/subscriptions/{theirs}/invoices", params={"cursor": "in_unknown"}
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "cursor")
    unknown = await server.client.get("/v1/subscriptions/nope/invoices")
    assert unknown.status_code == 404


async def _manager(server: Server, company_id: str) -> str:
    members = (await server.client.get(f"/v1/companies/{company_id}/members")).json()
    return str(members["data"][0]["id"])


async def _events_applied(server: Server, fake: FakeStripe) -> None:
    await settle(fake)
    await apply_events(server.runtime)
