"""Take the dashboard's screenshots (``dashboard-*.png`` here) from a fresh sandbox server:

    .venv/bin/python docs/screenshots/dashboard.py

A throw-away SQLite database gets a login, a key, two products, three companies buying seats
over a few sandbox months, then chromium photographs the overview, the tier editor and a
company.
"""

from __future__ import annotations

import subprocess
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS
from tests.integration.processes import SEATLEDGER, clean_environment, migrate, run, serving

HERE = Path(__file__).parent
EMAIL, PASSWORD = "ops@merchant.example", "a long enough passphrase"
TIERS = [{"up_to": 10, "unit_amount": 1000}, {"up_to": None, "unit_amount": 800}]


def _data(api: httpx.Client) -> str:
    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        answer = api.post(path, json=body)
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    team = post(
        "/v1/products",
        {
            "name": "Team plan",
            "prices": [
                {"currency": "usd", "interval": "month", "tiers_mode": "graduated", "tiers": TIERS}
            ],
        },
    )
    euro = post(
        "/v1/products",
        {
            "name": "Studio (EUR)",
            "prices": [
                {
                    "currency": "eur",
                    "interval": "year",
                    "tiers": [{"up_to": None, "unit_amount": 9600}],
                }
            ],
        },
    )
    first = ""
    for n, (name, product, seats) in enumerate(
        [("Acme", team, 8), ("Globex", euro, 4), ("Initech", team, 14)]
    ):
        company = post(
            "/v1/companies",
            {"name": name, "billing_manager": {"email": f"boss@{name.lower()}.example"}},
        )
        price_id = product["prices"][0]["id"]  # type: ignore[index]
        checkout = post(
            "/v1/checkouts", {"price_id": price_id, "seats": seats, "company_id": company["id"]}
        )
        done = post(f"/v1/checkouts/{checkout['id']}/confirm", {"payment_method": "pm_card_ok"})
        pool = {"subscription_id": done["subscription_id"]}
        for person in range(seats // 2 + n):
            post("/v1/seats", {**pool, "email": f"p{person}@{name.lower()}.example"})
        now = datetime.fromisoformat(
            str(api.get("/v1/sandbox/clock").json()["now"]).replace("Z", "+00:00")
        )
        post("/v1/sandbox/clock", {"now": (now + timedelta(days=45)).isoformat()})
        first = first or str(company["id"])
    return first


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = clean_environment(DATABASE_URL=f"sqlite:///{folder}/shots.sqlite3", SANDBOX="1")
        migrate(env)
        subprocess.run(
            [str(SEATLEDGER), "users", "create", "--email", EMAIL, "--password-stdin"],
            input=PASSWORD + "\n",
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = run(env, "keys", "create", "--name", "screenshots").stdout.strip().splitlines()[-1]
        with serving(env, Path(folder)) as server:
            with httpx.Client(
                base_url=server.base, headers={"Authorization": f"Bearer {key}"}
            ) as api:
                company = _data(api)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{server.base}/dashboard/login")
                page.get_by_label("Email").fill(EMAIL)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{server.base}/dashboard")
                page.screenshot(path=HERE / "dashboard-overview.png", full_page=True)
                page.goto(f"{server.base}/dashboard/products/new")
                page.get_by_label("Name", exact=True).fill("Graduated seats")
                page.get_by_label("Tiers mode").select_option("graduated")
                page.get_by_label("Tier 1 up to").fill("10")
                page.get_by_label("Tier 1 unit amount").fill("1000")
                page.get_by_role("button", name="Add a tier row").click()
                page.get_by_label("Tier 2 unit amount").fill("800")
                page.get_by_label("Price table up to (seats, at most 100)").fill("16")
                page.get_by_label("Quote one seat count").fill("14")
                page.get_by_role("button", name="Preview the price").click()
                page.screenshot(path=HERE / "dashboard-tier-editor.png", full_page=True)
                page.goto(f"{server.base}/dashboard/companies/{company}")
                page.screenshot(path=HERE / "dashboard-company.png", full_page=True)
                browser.close()


if __name__ == "__main__":
    main()
