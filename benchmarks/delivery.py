"""Delivery's speed (SPEC §10), on PostgreSQL with one ``seatledger worker`` process:

* ``delivery.webhooks_per_second``: catalogued events written to the outbox, fanned out and
  POSTed (signed) to one endpoint on 127.0.0.1 that answers at once (``benchmarks.receiver``,
  uvicorn in its own process), from the moment they are committed to the moment the last
  delivery is recorded ``succeeded``; ``EVENTS`` events after a warm-up batch.
* ``delivery.renewal_backlog_seconds``: the outbox backlog a renewal run of
  ``RENEWAL_SUBSCRIPTIONS`` subscriptions holding ``RENEWAL_SEATS`` seats in all leaves behind
  (its invoices and renewals), drained to that endpoint (target: under 30 s).

Skipped, saying why, when PostgreSQL cannot be reached (``SEATLEDGER_BENCH_DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import func, insert, select

from benchmarks import billing
from benchmarks.billing import POSTGRES, _fresh_postgres
from benchmarks.http_api import BenchmarkFailed, Server, _seatledger
from benchmarks.postgres import unreachable
from seatledger.adapters.db import migrations
from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.config import Settings, sync_database_url
from seatledger.domain.clock import FixedClock
from seatledger.domain.ids import new_id
from seatledger.services import renewals
from seatledger.services.runtime import Runtime

EVENTS = 5_000
WARMUP_EVENTS = 200
RENEWAL_SUBSCRIPTIONS = 1_250  # 1–15 seats each: 10,000 seats in all
DEADLINE = 300.0  # seconds
RECEIVER = [
    sys.executable, "-m", "uvicorn", "benchmarks.receiver:app", "--port", "{port}",
    "--log-level", "warning", "--no-access-log",
]  # fmt: skip


def _endpoint(url: str, receiver: str) -> None:
    engine = create_sync_engine(sync_database_url(url))
    with engine.begin() as c:
        c.execute(
            insert(t.webhook_endpoints).values(
                id=new_id("we"),
                url=receiver,
                secret="whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                event_types=["*"],
                created_at=datetime.now(UTC),
            )
        )
    engine.dispose()


def _events(url: str, count: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    engine = create_sync_engine(sync_database_url(url))
    with engine.begin() as c:
        c.execute(
            insert(t.outbox),
            [
                {
                    "event_id": new_id("evt"),
                    "type": "company.created",
                    "payload": {"id": f"co_{i}", "name": f"Company {i}"},
                    "created_at": now,
                }
                for i in range(count)
            ],
        )
    engine.dispose()


def _pending(url: str) -> int:
    """Events not yet fanned out, and deliveries not yet succeeded."""
    engine = create_sync_engine(sync_database_url(url))
    with engine.connect() as c:
        undelivered = c.execute(
            select(func.count()).select_from(t.outbox).where(t.outbox.c.delivered_at.is_(None))
        ).scalar_one()
        unsent = c.execute(
            select(func.count())
            .select_from(t.webhook_deliveries)
            .where(t.webhook_deliveries.c.status != "succeeded")
        ).scalar_one()
    engine.dispose()
    return int(undelivered) + int(unsent)


def _drained(url: str, worker: subprocess.Popen[bytes], log: Path) -> float:
    """Seconds until nothing is left to deliver."""
    start = time.perf_counter()
    while _pending(url):
        if worker.poll() is not None:
            raise BenchmarkFailed(f"the worker stopped:\n{log.read_text(errors='replace')}")
        if time.perf_counter() - start > DEADLINE:
            raise BenchmarkFailed(f"delivery did not finish within {DEADLINE:.0f} s")
        time.sleep(0.02)
    return time.perf_counter() - start


def _worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SEATLEDGER_DATABASE_URL": url, "SEATLEDGER_SANDBOX": "1"}
    with log.open("ab") as sink:
        return subprocess.Popen(
            [_seatledger(), "worker", "--interval", "1"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def _renewal_run(url: str) -> None:
    """``RENEWAL_SUBSCRIPTIONS`` subscriptions renewed, as the renewal benchmark does."""
    engine = create_engine(url)
    try:
        await billing.seed_due_subscriptions(engine, RENEWAL_SUBSCRIPTIONS)
        rt = Runtime(
            engine=engine,
            clock=FixedClock(billing.DUE + timedelta(minutes=1)),
            settings=Settings(database_url=url),
            gateway=LocalGateway(),
        )
        await renewals.renew_due(rt)
    finally:
        await engine.dispose()


def measure(url: str) -> tuple[float, float]:
    _fresh_postgres(url)
    migrations.upgrade(url)
    with tempfile.TemporaryDirectory(prefix="seatledger-bench-") as folder:
        receiver = Server(url, command=RECEIVER)
        receiver.start(Path(folder))
        log = Path(folder) / "worker.log"
        worker = _worker(url, log)
        try:
            _endpoint(url, f"{receiver.base}/hooks")
            _events(url, WARMUP_EVENTS)
            _drained(url, worker, log)
            _events(url, EVENTS)
            rate = EVENTS / _drained(url, worker, log)
            asyncio.run(_renewal_run(url))
            backlog = _drained(url, worker, log)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            receiver.stop()
    return rate, backlog


def collect() -> dict[str, dict[str, Any]]:
    url = os.environ.get("SEATLEDGER_BENCH_DATABASE_URL", POSTGRES)
    reason = unreachable(url)
    if reason is not None:
        print(f"delivery benchmarks skipped: {reason}", file=sys.stderr)
        return {
            "delivery.webhooks_per_second": {
                "value": None, "unit": "webhooks/s", "skipped": reason,
            },
            "delivery.renewal_backlog_seconds": {"value": None, "unit": "s", "skipped": reason},
        }  # fmt: skip
    rate, backlog = measure(url)
    return {
        "delivery.webhooks_per_second": {"value": round(rate), "unit": "webhooks/s"},
        "delivery.renewal_backlog_seconds": {"value": round(backlog, 1), "unit": "s"},
    }
