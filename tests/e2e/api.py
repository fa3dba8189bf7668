"""Building objects through the HTTP API, and asserting on problem documents."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from seatledger.adapters.db.tables import metadata
from seatledger.services.runtime import Runtime

PRICE: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers": [{"up_to": None, "unit_amount": 1000}],
}
ONE_TIME: dict[str, Any] = {**PRICE, "interval": None}
PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """Assert ``response`` is a problem document with this status and code (and field)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert PROBLEM_KEYS <= set(body) <= PROBLEM_KEYS | {"errors"}, body
    assert (body["status"], body["code"]) == (status, code), body
    assert body["type"] == f"urn:seatledger:problem:{code}"
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body


async def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows per table: "nothing changed" means this is the same before and after."""
    counts: dict[str, int] = {}
    async with runtime.engine.connect() as connection:
        for table in metadata.sorted_tables:
            query = select(func.count()).select_from(table)
            counts[table.name] = int((await connection.execute(query)).scalar_one())
    return counts


class Api:
    """The merchant's calls, with its write key; each asserts its expected status."""

    def __init__(self, client: httpx.AsyncClient, key: str, runtime: Runtime) -> None:
        self.client = client
        self.key = key
        self.runtime = runtime
        self.headers = bearer(key)

    async def call(
        self,
        method: str,
        path: str,
        expect: int | None = None,
        *,
        token: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {
            **(self.headers if token is None else bearer(token)),
            **kwargs.pop("headers", {}),
        }
        response = await self.client.request(method, path, headers=headers, **kwargs)
        if expect is not None:
            assert response.status_code == expect, response.text
        return response

    async def get(self, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        return (await self.call("GET", path, expect, **kwargs)).json()

    async def post(
        self, path: str, body: Any = None, expect: int | None = 201, **kwargs: Any
    ) -> Any:
        return (await self.call("POST", path, expect, json=body, **kwargs)).json()

    async def product(self, extra: dict[str, Any] | None = None, **price: Any) -> dict[str, Any]:
        body = {"name": "Team plan", "prices": [{**PRICE, **price}], **(extra or {})}
        product: dict[str, Any] = await self.post("/v1/products", body)
        return product

    async def price(self, **price: Any) -> str:
        return str((await self.product(**price))["prices"][0]["id"])

    async def company(
        self, email: str = "boss@acme.test", name: str = "Acme", **extra: Any
    ) -> dict[str, Any]:
        body = {"name": name, "billing_manager": {"email": email}, **extra}
        company: dict[str, Any] = await self.post("/v1/companies", body)
        return company

    async def checkout(self, price_id: str, seats: int = 3, **buyer: Any) -> dict[str, Any]:
        checkout: dict[str, Any] = await self.post(
            "/v1/checkouts", {"price_id": price_id, "seats": seats, **buyer}
        )
        return checkout

    async def buy(
        self, price_id: str, company_id: str, seats: int = 3, method: str = "pm_card_ok"
    ) -> dict[str, Any]:
        """Checkout and confirm: the completed checkout."""
        checkout = await self.checkout(price_id, seats, company_id=company_id)
        done: dict[str, Any] = await self.post(
            f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": method}, 200
        )
        return done

    async def subscription(self, seats: int = 3, **price: Any) -> tuple[str, dict[str, Any]]:
        """A company (Acme) with a subscription: (subscription id, company)."""
        price_id = await self.price(**price)
        company = await self.company()
        done = await self.buy(price_id, company["id"], seats)
        return str(done["subscription_id"]), company

    async def assign(self, pool: dict[str, str], email: str, **extra: Any) -> dict[str, Any]:
        seat: dict[str, Any] = await self.post("/v1/seats", {**pool, "email": email, **extra})
        return seat

    async def session(self, member_id: str) -> str:
        body = await self.post("/v1/customer-sessions", {"member_id": member_id})
        return str(body["token"])
