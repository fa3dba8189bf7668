"""A server killed between the steps of a keyed request, then started again: a retry with the
same Idempotency-Key never runs the work twice (``seatledger.services.idempotency``); killed
after the provider took a charge, the same call made anew without a key is not charged twice
either (a checkout's charge is keyed by the checkout and the card, a change's by the charge in
flight it left behind: ``seatledger.services.subscriptions.changes``).

Each test runs ``seatledger serve`` as a real process with ``SEATLEDGER_FAULT`` naming a crash
point (``seatledger.faults``): the process exits there, at once, as a killed one would. A new
server without the fault then answers the retry, on the same database (SQLite and PostgreSQL).
The objects the request needs are made beforehand through the API in this process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.local import LocalGateway, reference_for
from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain.clock import SystemClock
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api

SEATLEDGER = Path(sys.executable).with_name("seatledger")
OK = {"payment_method": "pm_card_ok"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``seatledger serve`` on a free port, with a crash point or none."""

    def __init__(self, database_url: str, fault: str | None) -> None:
        env = dict(os.environ)
        env["SEATLEDGER_DATABASE_URL"] = database_url
        env["SEATLEDGER_SANDBOX"] = "1"  # the local gateway's test cards run only there
        env.pop("SEATLEDGER_FAULT", None)
        if fault is not None:
            env["SEATLEDGER_FAULT"] = fault
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            # No delivery loop: a server's delivery round reading the outbox while a test's
            # fixture empties the tables deadlocks on PostgreSQL, and no test here needs it.
            [str(SEATLEDGER), "serve", "--port", str(port), "--no-delivery"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                httpx.get(f"{self.base}/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def doomed(database_url: str) -> Iterator[list[Server]]:
    """Servers started with a crash point (stopped should one survive)."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _doomed(servers: list[Server], database_url: str, fault: str) -> Server:
    server = Server(database_url, fault)
    servers.append(server)
    return server


@pytest.fixture(scope="module")
def restarted(database_url: str) -> Iterator[Server]:
    """The server that answers the retries: a new process, without a crash point."""
    server = Server(database_url, None)
    yield server
    server.stop()


@pytest.fixture
async def shop(engine: AsyncEngine, database_url: str) -> AsyncIterator[Api]:
    """The API in this process, on the real clock like the servers."""
    runtime = Runtime(engine, SystemClock(), Settings(database_url=database_url), LocalGateway())
    _, key = await api_keys.create_api_key(runtime, name="crash tests")
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        yield Api(client, key, runtime)


def _post(server: Server, api: Api, method: str, path: str, body: Any, key: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{server.base}{path}",
        json=body,
        headers={**api.headers, "Idempotency-Key": key},
        timeout=30,
    )


def _crash(server: Server, api: Api, method: str, path: str, body: Any, key: str) -> None:
    with pytest.raises(httpx.TransportError):  # the connection dies with the process
        _post(server, api, method, path, body, key)
    assert server.process.wait(timeout=10) == 1


async def _count(engine: AsyncEngine, table: Any, *where: Any) -> int:
    async with engine.connect() as connection:
        query = select(func.count()).select_from(table).where(*where)
        return int((await connection.execute(query)).scalar_one())


@pytest.mark.parametrize("fault", ["charged", "recorded", "committed"])
async def test_a_confirm_killed_midway_is_charged_and_completed_once(
    shop: Api,
    engine: AsyncEngine,
    database_url: str,
    doomed: list[Server],
    restarted: Server,
    fault: str,
) -> None:
    price_id = await shop.price()
    company = await shop.company()
    checkout = await shop.checkout(price_id, 3, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"

    _crash(_doomed(doomed, database_url, fault), shop, "POST", path, OK, "confirm-1")
    assert await _count(engine, t.subscriptions) == (1 if fault == "committed" else 0)

    server = restarted
    retried = _post(server, shop, "POST", path, OK, "confirm-1")
    assert retried.status_code == 200, retried.text
    replayed = retried.headers.get("idempotent-replayed") == "true"
    assert replayed == (fault == "committed")  # else nothing was kept: it ran anew
    answer = retried.json()
    assert answer["status"] == "completed"
    assert await _count(engine, t.subscriptions) == 1
    assert await _count(engine, t.invoices) == 1
    assert await _count(engine, t.payments) == 1
    assert await _count(engine, t.outbox, t.outbox.c.type == "checkout.completed") == 1
    async with engine.connect() as connection:
        payment = (await connection.execute(select(t.payments))).one()
        subscription = (await connection.execute(select(t.subscriptions))).one()
    assert subscription.id == answer["subscription_id"]
    # One charge: the retry asked the provider under the same key and got the same charge.
    assert payment.provider_reference == reference_for(f"checkout:{checkout['id']}:pm_card_ok")
    again = _post(server, shop, "POST", path, OK, "confirm-1")
    assert (again.status_code, again.content) == (200, retried.content)
    assert again.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("fault", ["recorded", "committed"])
async def test_an_assignment_killed_midway_assigns_one_seat(
    shop: Api,
    engine: AsyncEngine,
    database_url: str,
    doomed: list[Server],
    restarted: Server,
    fault: str,
) -> None:
    subscription_id, _ = await shop.subscription(seats=3)
    body = {"subscription_id": subscription_id, "email": "ann@acme.test"}

    _crash(_doomed(doomed, database_url, fault), shop, "POST", "/v1/seats", body, "seat-1")

    server = restarted
    retried = _post(server, shop, "POST", "/v1/seats", body, "seat-1")
    assert retried.status_code == 201, retried.text
    seat = retried.json()
    if fault == "committed":  # the answer was stored: replayed, the invitation withheld
        assert retried.headers["idempotent-withheld"] == "invitation"
        assert seat["invitation"] is None
    else:  # nothing was kept: assigned now, with its invitation
        assert seat["invitation"]["token"]
    assert await _count(engine, t.seats) == 1
    assert await _count(engine, t.outbox, t.outbox.c.type == "invitation.email") == 1
    subscription = await shop.get(f"/v1/subscriptions/{subscription_id}")
    assert subscription["assigned_seats"] == 1


def _post_anew(server: Server, api: Api, method: str, path: str, body: Any) -> httpx.Response:
    """The same call as a new request: no Idempotency-Key."""
    return httpx.request(method, f"{server.base}{path}", json=body, headers=api.headers, timeout=30)


async def test_a_confirm_killed_after_the_charge_then_asked_anew_is_charged_once(
    shop: Api, engine: AsyncEngine, database_url: str, doomed: list[Server], restarted: Server
) -> None:
    price_id = await shop.price()
    company = await shop.company()
    checkout = await shop.checkout(price_id, 3, company_id=company["id"])
    path = f"/v1/checkouts/{checkout['id']}/confirm"

    _crash(_doomed(doomed, database_url, "charged"), shop, "POST", path, OK, "confirm-anew")
    assert await _count(engine, t.subscriptions) == 0

    retried = _post_anew(restarted, shop, "POST", path, OK)
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "completed"
    assert await _count(engine, t.subscriptions) == 1
    assert await _count(engine, t.payments) == 1
    assert await _count(engine, t.outbox, t.outbox.c.type == "checkout.completed") == 1
    async with engine.connect() as connection:
        payment = (await connection.execute(select(t.payments))).one()
    # The charge the killed server took: the provider key is the checkout's and the card's.
    assert payment.provider_reference == reference_for(f"checkout:{checkout['id']}:pm_card_ok")
    again = _post_anew(restarted, shop, "POST", path, OK)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "checkout_not_open"


async def _in_flight(engine: AsyncEngine) -> list[str]:
    """The keys of the change charges in flight."""
    async with engine.connect() as connection:
        rows = await connection.execute(select(t.change_charges.c.idempotency_key))
        return [str(key) for (key,) in rows]


@pytest.mark.parametrize("keyed", [True, False], ids=["same key", "new request"])
async def test_a_change_killed_after_the_charge_then_asked_again_is_charged_once(
    shop: Api,
    engine: AsyncEngine,
    database_url: str,
    doomed: list[Server],
    restarted: Server,
    keyed: bool,
) -> None:
    subscription_id, _ = await shop.subscription(seats=3)
    path = f"/v1/subscriptions/{subscription_id}"
    change = {"seats": 5, "proration_behavior": "invoice"}

    _crash(_doomed(doomed, database_url, "charged"), shop, "PATCH", path, change, "grow-2")
    assert (await shop.get(path))["seats"] == 3
    [taken] = await _in_flight(engine)  # the key the killed server's charge went under
    time.sleep(1.1)  # the retry comes later: a plan made now would prorate another amount

    if keyed:
        retried = _post(restarted, shop, "PATCH", path, change, "grow-2")
    else:
        retried = _post_anew(restarted, shop, "PATCH", path, change)
    assert retried.status_code == 200, retried.text
    assert retried.json()["seats"] == 5
    assert await _in_flight(engine) == []
    assert await _count(engine, t.payments) == 2  # the checkout's and the change's
    async with engine.connect() as connection:
        update = (
            await connection.execute(
                select(t.invoices).where(t.invoices.c.reason == "subscription_update")
            )
        ).one()
        payment = (
            await connection.execute(select(t.payments).where(t.payments.c.invoice_id == update.id))
        ).one()
        credit = await connection.execute(select(func.count()).select_from(t.credit_balances))
    assert update.status == "paid"
    assert (payment.provider_reference, payment.amount) == (reference_for(taken), update.total)
    assert credit.scalar_one() == 0  # nothing paid twice, so nothing left over as credit
    assert await _count(engine, t.outbox, t.outbox.c.type == "subscription.updated") == 1
