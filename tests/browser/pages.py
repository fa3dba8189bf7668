"""Building what the buyer's and the holder's pages need through the live server's API."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx

VOLUME: dict[str, Any] = {
    "currency": "usd",
    "interval": "month",
    "tiers_mode": "volume",
    "tiers": [{"up_to": 5, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}],
}


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def open_checkout(api: httpx.Client, seats: int = 3) -> dict[str, Any]:
    """A checkout for Acme's billing manager, of a volume-tiered product with a license key."""
    benefit = created(
        api.post(
            "/v1/benefits",
            json={
                "type": "license_key",
                "description": "Desktop app license",
                "properties": {"prefix": "TEAM"},
            },
        )
    )
    upload = created(
        api.post("/v1/files", files={"file": ("guide.pdf", b"%PDF-1.4 guide", "application/pdf")})
    )
    guide = created(
        api.post(
            "/v1/benefits",
            json={
                "type": "file_download",
                "description": "The admin guide",
                "properties": {"file_id": upload["id"]},
            },
        )
    )
    product = created(
        api.post(
            "/v1/products",
            json={
                "name": "Team plan",
                "description": "Everything a team needs",
                "benefit_ids": [benefit["id"], guide["id"]],
                "prices": [VOLUME],
            },
        )
    )
    company = created(
        api.post(
            "/v1/companies", json={"name": "Acme", "billing_manager": {"email": "dana@acme.test"}}
        )
    )
    return created(
        api.post(
            "/v1/checkouts",
            json={
                "price_id": product["prices"][0]["id"],
                "seats": seats,
                "company_id": company["id"],
            },
        )
    )


def checkout(api: httpx.Client, checkout_id: str) -> dict[str, Any]:
    return created(api.get(f"/v1/checkouts/{checkout_id}"))


def invitation_link(api: httpx.Client, email: str, timeout: float = 20) -> str:
    """The claim link in the invitation email to ``email`` from this server (delivery writes
    it shortly; other modules' servers share the database)."""
    deadline = time.monotonic() + timeout
    claim = re.compile(re.escape(str(api.base_url).rstrip("/")) + r"/claim/[A-Za-z0-9_\-]+")
    while True:
        for mail in created(api.get("/v1/emails", params={"to": email}))["data"]:
            found = claim.search(mail["text"])
            if found:
                return found.group(0)
        assert time.monotonic() < deadline, f"no invitation email to {email}"
        time.sleep(0.2)
