"""The billing manager's portal over the ASGI app: a browser-like client holding the portal
cookie of one customer session, and the objects the portal tests start from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from tests.e2e.api import ONE_TIME, Api

# Every page carries the token: in its forms, and for htmx in the body's ``hx-headers``.
_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')


class Visitor:
    """One browser: its own cookies (the portal session, the CSRF cookie)."""

    def __init__(self, app: FastAPI, session_token: str | None) -> None:
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://seatledger.test")
        if session_token is not None:
            self.client.cookies.set("sl_portal", session_token)

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def csrf(self, path: str = "/portal/manage") -> str:
        """The token a form of ``path`` carries (and its cookie, kept by the client)."""
        found = _CSRF.search((await self.get(path)).text)
        assert found is not None, f"no token on {path}"
        return found.group(1)

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, token: str | None = None
    ) -> httpx.Response:
        """A form sent as the page's own form would send it (with the page's CSRF token)."""
        body = {"csrf_token": token if token is not None else await self.csrf(), **(data or {})}
        return await self.client.post(path, data=body)

    async def aclose(self) -> None:
        await self.client.aclose()


@dataclass
class Shop:
    """A company (Acme) with a 5-seat monthly subscription and a 2-seat paid order, its
    billing manager and a plain member, and another company with a subscription of its own."""

    company: dict[str, Any]
    subscription_id: str
    order_id: str
    manager_token: str
    member_token: str
    other_subscription_id: str
    other_token: str
    yearly_price_id: str


async def shop(api: Api, *, method: str = "pm_card_ok") -> Shop:
    tiers = [{"up_to": 5, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}]
    monthly = {"currency": "usd", "interval": "month", "tiers": tiers}
    product = await api.post(
        "/v1/products",
        {"name": "Team plan", "prices": [monthly, {**monthly, "interval": "year"}]},
    )
    monthly_id, yearly_id = (price["id"] for price in product["prices"])
    company = await api.company()
    subscription = await api.buy(monthly_id, company["id"], 5, method)
    order_price = await api.price(**ONE_TIME)
    order = await api.buy(order_price, company["id"], 2)
    member = await api.post(f"/v1/companies/{company['id']}/members", {"email": "ann@acme.test"})
    other = await api.company("boss@globex.test", "Globex")
    other_subscription = await api.buy(monthly_id, other["id"], 3)
    return Shop(
        company=company,
        subscription_id=subscription["subscription_id"],
        order_id=order["order_id"],
        manager_token=await api.session(company["billing_manager_member_id"]),
        member_token=await api.session(member["id"]),
        other_subscription_id=other_subscription["subscription_id"],
        other_token=await api.session(other["billing_manager_member_id"]),
        yearly_price_id=yearly_id,
    )


__all__ = ["Shop", "Visitor", "shop"]
