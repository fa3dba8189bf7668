"""Who may do what on the checkout's pages (SPEC §11): a one-time price, a buyer known only by
email, a plain member and another company's manager on the confirmation, and the form that goes
on to Stripe when Stripe takes the payments."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.domain.payments import PaymentRequest, PaymentResult
from seatledger.services.runtime import Runtime
from tests.e2e.api import ONE_TIME, Api, row_counts
from tests.e2e.web_forms import csrf_token, post_form


async def _pay(client: httpx.AsyncClient, checkout_id: str) -> httpx.Response:
    page = f"/checkout/{checkout_id}"
    return await post_form(client, page, f"{page}/pay", {"payment_method": "pm_card_ok"})


async def test_a_one_time_price_is_bought_and_its_order_invited(
    api: Api, client: httpx.AsyncClient
) -> None:
    product = await api.product(**{**ONE_TIME, "minimum_seats": 2, "maximum_seats": 10})
    company = await api.company()
    checkout = await api.checkout(product["prices"][0]["id"], 2, company_id=company["id"])
    page = await client.get(f"/checkout/{checkout['id']}")
    assert 'min="2" max="10"' in page.text
    assert "paid once" in page.text
    assert "From 2 to 10 seats." in page.text
    paid = await _pay(client, checkout["id"])
    assert paid.status_code == 303
    done = f"/checkout/{checkout['id']}/done"
    invited = await post_form(
        client, done, f"/checkout/{checkout['id']}/invite", {"emails": "a@acme.test;b@acme.test"}
    )
    assert invited.status_code == 303
    order_id = (await api.get(f"/v1/checkouts/{checkout['id']}"))["order_id"]
    seats = await api.get(f"/v1/seats?order_id={order_id}")
    assert seats["assigned_seats"] == 2


async def test_a_buyer_known_by_email_gets_no_portal(api: Api, client: httpx.AsyncClient) -> None:
    price_id = await api.price()
    checkout = await api.checkout(price_id, 3, customer_email="dana@nowhere.test")
    paid = await _pay(client, checkout["id"])
    assert paid.status_code == 303
    assert "sl_portal" not in paid.headers.get("set-cookie", "")
    done = await client.get(paid.headers["location"])
    assert "Your seller will set up your company" in done.text
    assert "Invite your team" not in done.text


async def _enter(client: httpx.AsyncClient, token: str) -> None:
    assert (await client.get(f"/portal?session={token}")).status_code == 303


async def test_only_the_buying_company_manager_may_invite(
    api: Api, client: httpx.AsyncClient
) -> None:
    price_id = await api.price()
    company = await api.company()
    checkout = await api.checkout(price_id, 3, company_id=company["id"])
    await _pay(client, checkout["id"])
    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "pat@acme.test"})
    other = await api.company(email="boss@globex.test", name="Globex")
    done = f"/checkout/{checkout['id']}/done"
    invite = f"/checkout/{checkout['id']}/invite"
    for token, status in (
        (await api.session(member["id"]), 403),
        (await api.session(other["billing_manager_member_id"]), 404),
    ):
        await _enter(client, token)
        page = await client.get(done)
        assert page.status_code == 200
        assert "Invite your team" not in page.text
        before = await row_counts(api.runtime)
        refused = await client.post(
            invite, data={"csrf_token": csrf_token(page.text), "emails": "x@acme.test"}
        )
        assert refused.status_code == status
        assert await row_counts(api.runtime) == before


class StripeNamedGateway:
    """A gateway that says it is Stripe's: the checkout page sends the buyer on to it."""

    name = "stripe"

    def check_payment_method(self, payment_method: str) -> None:
        return None

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        return PaymentResult(False, failure_reason="not charged here")


async def test_with_stripe_the_pay_button_goes_on_to_stripe(
    api: Api, engine: AsyncEngine, clock: FixedClock, settings: Settings
) -> None:
    checkout: dict[str, Any] = await api.checkout(await api.price(), 3, customer_email="d@x.test")
    runtime = Runtime(engine=engine, clock=clock, settings=settings, gateway=StripeNamedGateway())
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        page = await client.get(f"/checkout/{checkout['id']}")
    assert page.status_code == 200
    assert f'action="/checkout/{checkout["id"]}/stripe"' in page.text
    assert "pm_card_ok" not in page.text
    assert "Continue to payment" in page.text
    assert f'formaction="/checkout/{checkout["id"]}/seats"' in page.text
