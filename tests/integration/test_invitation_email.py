"""The invitation reaches the invitee: a seat assigned through a real ``seatledger serve``
becomes an email that a real SMTP server receives, sent by the server's own delivery loop, and
the link in it claims the seat (SPEC §10, §8: ``make run`` delivers from one process)."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.integration.processes import clean_environment, migrate, run, serving
from tests.integration.smtp_server import Inbox, smtp
from tests.integration.test_serve import PRICE, Merchant

__all__ = ["smtp"]  # the SMTP server fixture, used below by name

LINK = re.compile(r"http://127\.0\.0\.1:\d+/claim/[A-Za-z0-9_\-]+")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: Inbox) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    env = clean_environment(
        DATABASE_URL=f"sqlite:///{tmp_path / 'mail.sqlite3'}",
        SANDBOX="1",
        SMTP_URL=smtp.url,
        EMAIL_FROM="Acme Billing <billing@acme.test>",
    )
    migrate(env)
    return env


def _mail_to(inbox: Inbox, address: str) -> EmailMessage:
    deadline = time.monotonic() + 60
    while True:
        found = [message for message in inbox.messages if message["To"] == address]
        if found:
            [message] = found
            return message
        assert time.monotonic() < deadline, f"nothing reached {address} within 60 s"
        time.sleep(0.1)


def test_an_assigned_seat_is_claimed_through_the_emailed_link(
    env: dict[str, str], smtp: Inbox, tmp_path: Path
) -> None:
    key = run(env, "keys", "create", "--name", "mail").stdout.strip().splitlines()[-1]
    with serving(env, tmp_path) as server:
        shop = Merchant(server.base, key)
        product = shop.post("/v1/products", {"name": "Team plan", "prices": [PRICE]})
        _, seat = shop.buy_and_assign(product["prices"][0]["id"], 2)
        mail = _mail_to(smtp, "ann@acme.test")
        assert mail["From"] == "Acme Billing <billing@acme.test>"
        event_id = mail["Seatledger-Event-Id"]
        assert event_id.startswith("evt_")
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert "Acme" in text
        assert "Team plan" in text
        [link] = LINK.findall(text)
        assert link in html
        assert link == seat["invitation"]["url"]  # the very link the assign answer carried

        token = link.rsplit("/", 1)[1]
        claimed = httpx.post(f"{server.base}/v1/claims/{token}", timeout=30)
        assert claimed.status_code == 200, claimed.text
        assert claimed.json()["seat"]["status"] == "claimed"

        # The merchant sees the email as sent, and the link no longer (the seat is claimed).
        [listed] = shop.get(f"/v1/emails?event_id={event_id}")["data"]
        assert listed["status"] == "sent"
        assert token not in listed["text"] + listed["html"]
        receipt = _mail_to(smtp, "dana@acme.test")  # the first invoice, paid at checkout
        assert "INV-000001" in receipt.get_body(("plain",)).get_content()
    assert token not in server.output()
