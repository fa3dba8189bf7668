"""``seatledger serve`` as a real process: the links it hands out point at the address it serves
(unless SEATLEDGER_PUBLIC_URL says otherwise), and its log never holds a token (SPEC §8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.integration.processes import clean_environment, migrate, run, serving

PRICE = {"currency": "usd", "interval": "month", "tiers": [{"up_to": None, "unit_amount": 1000}]}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # commands read the .env of the current folder: none
    env = clean_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}", SANDBOX="1")
    migrate(env)
    return env


@pytest.fixture
def key(env: dict[str, str]) -> str:
    return run(env, "keys", "create", "--name", "serve").stdout.strip().splitlines()[-1]


class Merchant:
    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body: Any = None, expect: int = 201, **kwargs: Any) -> Any:
        response = httpx.post(
            self.base + path, json=body, headers=self.headers, timeout=30, **kwargs
        )
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str) -> Any:
        response = httpx.get(self.base + path, headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def buy_and_assign(self, price_id: str, seats: int) -> tuple[Any, Any]:
        """A company buys ``seats`` of ``price_id`` and assigns one: (the checkout, the seat)."""
        company = self.post(
            "/v1/companies", {"name": "Acme", "billing_manager": {"email": "dana@acme.test"}}
        )
        checkout = self.post(
            "/v1/checkouts", {"price_id": price_id, "seats": seats, "company_id": company["id"]}
        )
        done = self.post(
            f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"}, 200
        )
        seat = self.post(
            "/v1/seats", {"subscription_id": done["subscription_id"], "email": "ann@acme.test"}
        )
        return checkout, seat


def test_links_point_at_the_served_address_and_tokens_stay_out_of_the_log(
    env: dict[str, str], key: str, tmp_path: Path
) -> None:
    with serving(env, tmp_path) as server:
        shop = Merchant(server.base, key)
        stored = shop.post("/v1/files", files={"file": ("guide.pdf", b"%PDF guide", "text/plain")})
        benefit = shop.post(
            "/v1/benefits",
            {
                "type": "file_download",
                "description": "Guide",
                "properties": {"file_id": stored["id"]},
            },
        )
        product = shop.post(
            "/v1/products", {"name": "Team", "prices": [PRICE], "benefit_ids": [benefit["id"]]}
        )
        checkout, seat = shop.buy_and_assign(product["prices"][0]["id"], 2)
        assert checkout["url"] == f"{server.base}/checkout/{checkout['id']}"
        invitation = seat["invitation"]
        assert invitation["url"] == f"{server.base}/claim/{invitation['token']}"
        token = invitation["token"]

        # The claimer's own calls, with their secrets in the path and the query.
        assert httpx.get(f"{server.base}/v1/claims/{token}").status_code == 200
        claimed = httpx.post(f"{server.base}/v1/claims/{token}").json()
        assert claimed["seat"]["status"] == "claimed"
        session_token = claimed["session_token"]
        httpx.get(invitation["url"])  # the claim page: the token is used by now (400)
        member_id = claimed["seat"]["member_id"]
        [grant] = shop.get(f"/v1/members/{member_id}/entitlements")["products"][0]["benefits"]
        link = grant["properties"]["download_url"]
        assert link.startswith(f"{server.base}/v1/files/{stored['id']}/download?")
        assert httpx.get(link).content == b"%PDF guide"
        signature = dict(part.split("=", 1) for part in urlsplit(link).query.split("&"))[
            "signature"
        ]
        session = shop.post("/v1/customer-sessions", {"member_id": member_id})
        assert session["portal_url"].startswith(f"{server.base}/portal?")
        entered = httpx.get(session["portal_url"])  # the token leaves the address at once
        assert (entered.status_code, entered.headers["location"]) == (303, "/portal")
        httpx.get(f"{server.base}/v1/products?token={session_token}")
    log = server.output()
    for secret in (token, session_token, signature, session["token"], key):
        assert secret not in log
    assert f"links point at {server.base}" in log
    requests = [
        line for line in map(_json_or_none, log.splitlines()) if line and line["event"] == "request"
    ]
    seen = {(line["method"], line["path"], line["status"]) for line in requests}
    assert ("POST", "/v1/claims/[redacted]", 200) in seen
    assert ("GET", "/v1/claims/[redacted]", 200) in seen
    assert ("GET", "/claim/[redacted]", 400) in seen
    assert ("GET", "/portal?session=[redacted]", 303) in seen
    assert ("POST", "/v1/seats", 201) in seen  # one line per request, with its status
    assert "signature=[redacted]" in log
    assert all(len(line["request_id"]) == 32 for line in requests)


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def test_a_public_url_overrides_the_served_address(
    env: dict[str, str], key: str, tmp_path: Path
) -> None:
    env["SEATLEDGER_PUBLIC_URL"] = "https://billing.example/"
    with serving(env, tmp_path) as server:
        shop = Merchant(server.base, key)
        product = shop.post("/v1/products", {"name": "Team", "prices": [PRICE]})
        checkout, seat = shop.buy_and_assign(product["prices"][0]["id"], 1)
        assert checkout["url"] == f"https://billing.example/checkout/{checkout['id']}"
        assert seat["invitation"]["url"].startswith("https://billing.example/claim/")
