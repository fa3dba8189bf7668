"""Webhook delivery survives ``kill -9``: every event arrives at least once, and the only
duplicates are re-sends of the same event ids; two workers on PostgreSQL share the work
without ever sending one delivery twice at the same time (SPEC §10).

Real processes (``seatledger worker``) deliver to a real HTTP receiver in this process, which
checks each signature with the ``standardwebhooks`` library. The events are written straight
into the outbox, as the use cases write them, so the test spends its time on delivery.

``SEATLEDGER_FAULT_EVENTS`` and ``SEATLEDGER_FAULT_KILLS`` make the kill test smaller (CI);
by default 1,000 events and 6 kills. Each kill falls either at a random moment of a worker's
first seconds (start-up, fan-out) or after a random number of further webhooks arrived (in the
middle of sending and recording). A delivery leased by a killed worker goes out again once its
lease (``webhook_deliveries.LEASE``, a minute) runs out, so the test waits for that too.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks.webhooks import Webhook

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.local import LocalGateway
from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain.clock import SystemClock
from seatledger.domain.ids import new_id
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from seatledger.services.webhook_deliveries import LEASE
from tests.integration.processes import SEATLEDGER, clean_environment

EVENTS = int(os.environ.get("SEATLEDGER_FAULT_EVENTS", "1000"))
KILLS = int(os.environ.get("SEATLEDGER_FAULT_KILLS", "6"))
# Seconds for the last, unkilled worker to finish, leases of killed ones run out included: the
# machine may be busy.
DEADLINE = LEASE.total_seconds() + 120.0


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records every verified webhook, and notices when the
    same delivery is being received twice at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.secret = ""
        self.delay = delay
        self.received: list[str] = []
        self.in_flight: Counter[str] = Counter()
        self.overlaps: list[str] = []
        self.rejected: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                body = self.rfile.read(length)
                if len(body) < length:
                    # The sender was killed halfway through the request: nothing was delivered.
                    self.close_connection = True
                    return
                receiver.take(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def take(self, body: bytes, headers: dict[str, str]) -> None:
        event_id = headers.get("webhook-id", "")
        with self._lock:
            if self.in_flight[event_id]:
                self.overlaps.append(event_id)
            self.in_flight[event_id] += 1
        try:
            Webhook(self.secret).verify(body, headers)
            if json.loads(body)["id"] != event_id:
                raise ValueError("the body's id is not the webhook-id")
        except Exception as error:
            with self._lock:
                self.rejected.append(f"{event_id}: {error}")
        else:
            if self.delay:
                time.sleep(self.delay)
            with self._lock:
                self.received.append(event_id)
        finally:
            with self._lock:
                self.in_flight[event_id] -= 1

    def distinct(self) -> set[str]:
        with self._lock:
            return set(self.received)

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


async def _endpoint(engine: AsyncEngine, database_url: str, url: str) -> str:
    """A webhook endpoint for every event type, made through the API; answers its secret."""
    runtime = Runtime(
        engine, SystemClock(), Settings(database_url=database_url, sandbox=True), LocalGateway()
    )
    _, key = await api_keys.create_api_key(runtime, name="delivery faults")
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        response = await client.post(
            "/v1/webhook-endpoints",
            json={"url": url, "event_types": ["*"]},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


async def _events(engine: AsyncEngine, count: int) -> set[str]:
    """``count`` catalogued events in the outbox, as use cases write them."""
    now = datetime.now(UTC).replace(microsecond=0)
    rows = [
        {
            "event_id": new_id("evt"),
            "type": "company.created",
            "payload": {"id": f"co_{i}", "name": f"Company {i}"},
            "created_at": now,
        }
        for i in range(count)
    ]
    async with engine.begin() as connection:
        await connection.execute(insert(t.outbox), rows)
    return {str(row["event_id"]) for row in rows}


def _worker(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = clean_environment(DATABASE_URL=database_url, SANDBOX="1")
    with log.open("ab") as sink:
        return subprocess.Popen(
            [str(SEATLEDGER), "worker", "--interval", "1"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _wait_for(receiver: Receiver, expected: set[str], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not expected <= receiver.distinct():
        missing = len(expected - receiver.distinct())
        assert time.monotonic() < deadline, f"{missing} events never arrived:\n{log.read_text()}"
        time.sleep(0.2)


def _kill_somewhere(
    process: subprocess.Popen[bytes], receiver: Receiver, chance: random.Random
) -> None:
    """SIGKILL at a random moment of the start-up and fan-out, or after a random number of
    further webhooks arrived."""
    if chance.random() < 1 / 3:
        time.sleep(chance.uniform(0.3, 2.0))
    else:
        target = len(receiver.received) + chance.randint(1, max(1, EVENTS // (KILLS + 1)))
        give_up = time.monotonic() + 15.0
        while len(receiver.received) < target and time.monotonic() < give_up:
            time.sleep(0.002)
    _kill(process)


async def _statuses(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(select(t.webhook_deliveries.c.status))
        return Counter(str(status) for (status,) in rows)


async def _all_succeeded(engine: AsyncEngine, count: int, log: Path) -> None:
    """Wait until ``count`` deliveries are ``succeeded``: those a killed worker had leased are
    sent again once their leases run out."""
    deadline = time.monotonic() + DEADLINE
    while (statuses := await _statuses(engine)) != Counter({"succeeded": count}):
        assert time.monotonic() < deadline, f"deliveries: {statuses}\n{log.read_text()}"
        await asyncio.sleep(0.5)


async def test_a_worker_killed_again_and_again_loses_no_event(
    engine: AsyncEngine, database_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    receiver.secret = await _endpoint(engine, database_url, receiver.url)
    expected = await _events(engine, EVENTS)
    log = tmp_path / "worker.log"
    chance = random.Random(20270120)
    for _ in range(KILLS):
        _kill_somewhere(_worker(database_url, log), receiver, chance)
    process = _worker(database_url, log)
    try:
        _wait_for(receiver, expected, log)
        await _all_succeeded(engine, len(expected), log)
    finally:
        _kill(process)

    assert receiver.rejected == []
    arrivals = Counter(receiver.received)
    assert set(arrivals) == expected  # every event arrived, and nothing that was not one
    # Duplicates are re-sends of those same ids, by a worker taking over from a killed one
    # that had sent without recording it: at least once, never lost.
    resent = {event_id for event_id, count in arrivals.items() if count > 1}
    assert resent <= expected


@pytest.mark.postgresql_only  # several workers share the work on PostgreSQL
async def test_two_workers_never_send_one_delivery_at_once(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    with Receiver(delay=0.005) as receiver:
        receiver.secret = await _endpoint(engine, database_url, receiver.url)
        expected = await _events(engine, EVENTS)
        log = tmp_path / "workers.log"
        workers = [_worker(database_url, log), _worker(database_url, log)]
        try:
            _wait_for(receiver, expected, log)
            # The last wave's outcomes are recorded after its webhooks arrived: the workers are
            # stopped once they are, not before (on a busy machine that can take a while).
            deadline = time.monotonic() + DEADLINE
            while (await _statuses(engine))["succeeded"] < len(expected):
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.2)
        finally:
            for process in workers:
                _kill(process)
        assert receiver.rejected == []
        assert receiver.overlaps == []
        assert receiver.distinct() == expected
        assert len(receiver.received) == len(expected)  # no crash, so no re-send either
    assert await _statuses(engine) == Counter({"succeeded": len(expected)})
