"""Every form of the pages refuses a POST without its CSRF token, found from the app's routes
rather than listed by hand, so a form added later is checked too: a visitor signed into the
dashboard and the billing manager's portal, holding its CSRF cookie, sends each form with no
token, an empty one and a forged one, on real objects; each answer is 403 and no row
changes.

``POST /checkout/{id}/stripe``, where a Stripe-mode checkout page's form goes, is an API route
(``api/stripe_checkout.py``), public by design: it only opens the hosted payment page that
anyone holding the checkout id may open, and takes no token."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute

from seatledger import web
from seatledger.services.runtime import Runtime
from seatledger.web import csrf
from tests.e2e.api import Api, row_counts
from tests.e2e.dashboard import PASSWORD, Dashboard, new_user
from tests.e2e.portal import Shop, Visitor

# What any of the forms may ask for: each route reads its own fields and ignores the others.
FIELDS = {
    "seats": "9",
    "emails": "mallory@evil.test",
    "when": "now",
    "payment_method": "pm_card_ok",
    "password": PASSWORD,
    "action": "create",
    "name": "Forged",
    "days": "3",
}


def _form_routes() -> list[APIRoute]:
    """The pages' POST routes, from the routers the app includes for its pages."""
    return [
        route
        for router in web.ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]


async def _ids(api: Api, acme: Shop) -> dict[str, str]:
    """An object of each kind a form's address names, all belonging to Acme's merchant."""
    company_id = acme.company["id"]
    seat = await api.assign({"subscription_id": acme.subscription_id}, "ann@acme.test")
    opened = await api.checkout(acme.yearly_price_id, 3, company_id=company_id)
    products = await api.get("/v1/products?limit=100")
    (team,) = [p for p in products["data"] if p["prices"][-1]["id"] == acme.yearly_price_id]
    endpoint = await api.post(
        "/v1/webhook-endpoints", {"url": "https://hooks.example.com/x", "event_types": ["*"]}
    )
    return {
        "checkout_id": opened["id"],
        "token": seat["invitation"]["token"],
        "subscription_id": acme.subscription_id,
        "order_id": acme.order_id,
        "seat_id": seat["id"],
        "product_id": team["id"],
        "price_id": acme.yearly_price_id,
        "company_id": company_id,
        "endpoint_id": endpoint["id"],
        # No delivery has been attempted yet; the token is checked before the address is read.
        "delivery_id": "whd_00000000000000000000000000",
    }


async def test_every_form_refuses_a_post_without_its_token(
    app: FastAPI, api: Api, acme: Shop, runtime: Runtime
) -> None:
    routes = _form_routes()
    unguarded = [
        route.path
        for route in routes
        if not any(d.call is csrf.require for d in route.dependant.dependencies)
    ]
    assert not unguarded, f"forms without the CSRF check: {unguarded}"
    assert len(routes) >= 20  # the checkout's, the claim's, the portal's and the dashboard's

    ids = await _ids(api, acme)
    visitor = Visitor(app, acme.manager_token)
    try:
        email = await new_user(runtime)
        await Dashboard(visitor.client).login(email)
        await visitor.csrf()  # the visitor holds its cookie; the forms below lack the token
        before = await row_counts(runtime)
        for route in routes:
            path = re.sub(r"\{(\w+)\}", lambda name: ids[name.group(1)], route.path)
            for token in (None, "", "forged"):
                body = dict(FIELDS, email=email)
                if token is not None:
                    body["csrf_token"] = token
                answer = await visitor.client.post(path, data=body)
                assert answer.status_code == 403, (path, token, answer.status_code)
        assert await row_counts(runtime) == before
        # Still signed in: the logout without a token did nothing.
        assert (await visitor.client.get("/dashboard")).status_code == 200
    finally:
        await visitor.aclose()
