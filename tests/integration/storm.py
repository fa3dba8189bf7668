"""The assignment storm (issue 13): many assignment attempts from several client processes,
each with many connections, through ``seatledger serve --workers 2`` on PostgreSQL, against
pools with a few free seats; some emails are repeated in a pool, so ``already_assigned`` races
with ``no_seats_available``.

What must hold: no pool oversold (its live seats ≤ its seats, its counter = its live seats),
no seat lost (a pool ends with as many seats as it had free or as distinct emails tried it,
whichever is fewer), every refusal a 409 with the SPEC's code (no 5xx, no other status, no
request unanswered), and successes + refusals = attempts.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from tests.integration import pools
from tests.integration.processes import Server, clean_environment, serving

ROOT = Path(__file__).resolve().parents[2]
CLIENT = (sys.executable, "-m", "tests.integration.storm_client")
REFUSALS = ("409 no_seats_available", "409 already_assigned")


@dataclass(frozen=True)
class Storm:
    pools: int
    seats: int  # free seats in each pool
    attempts: int
    processes: int
    connections: int  # concurrent requests per process
    emails: int = 8  # distinct emails tried in each pool
    seed: int = 13


@dataclass
class Outcome:
    counts: Counter[str] = field(default_factory=Counter)
    seats: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, storm: Storm) -> str:
        refused = ", ".join(f"{k}: {self.counts[k]}" for k in sorted(self.counts) if k != "201")
        return (
            f"{storm.attempts} attempts from {storm.processes} processes × {storm.connections}"
            f" connections on {storm.pools} pools × {storm.seats} seats in {self.seconds:.1f} s"
            f" ({storm.attempts / self.seconds:.0f}/s): {self.counts['201']} assigned; {refused}"
        )


async def pools_for(engine: AsyncEngine, storm: Storm) -> list[str]:
    """``storm.pools`` subscriptions of ``storm.seats`` seats each, none assigned."""
    price_id = await pools.product(engine)
    ids = []
    for n in range(storm.pools):
        company_id, _ = await pools.company(engine, manager=f"boss{n}@storm.test")
        ids.append(await pools.subscription(engine, price_id, company_id, seats=storm.seats))
    return ids


def plans(subscription_ids: list[str], storm: Storm) -> list[list[list[str]]]:
    """The attempts, spread evenly over the pools and shuffled, dealt out to the processes."""
    rng = random.Random(storm.seed)
    attempts = [
        [subscription_ids[n % len(subscription_ids)], f"p{rng.randrange(storm.emails)}@storm.test"]
        for n in range(storm.attempts)
    ]
    rng.shuffle(attempts)
    return [attempts[k :: storm.processes] for k in range(storm.processes)]


def blow(
    server: Server, key: str, storm: Storm, dealt: list[list[list[str]]], folder: Path
) -> Outcome:
    """Run the client processes at once and add up what they saw."""
    files = []
    for k, plan in enumerate(dealt):
        files.append(folder / f"storm-plan-{k}.json")
        files[-1].write_text(json.dumps(plan))
    started = time.monotonic()
    clients = [
        subprocess.Popen(
            [*CLIENT, server.base, key, str(f), str(storm.connections)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    outputs = [client.communicate(timeout=3600) for client in clients]
    outcome = Outcome(seconds=time.monotonic() - started)
    for client, (out, err) in zip(clients, outputs, strict=True):
        assert client.returncode == 0, err
        seen: dict[str, Any] = json.loads(out)
        outcome.counts.update(seen["counts"])
        outcome.seats += seen["seats"]
    return outcome


async def pool_rows(engine: AsyncEngine, subscription_ids: list[str]) -> list[Any]:
    """Each pool's seats, counter and live seats counted from the seat rows."""
    live = (
        select(func.count())
        .where(t.seats.c.pool_id == t.seat_pools.c.id, t.seats.c.status != "revoked")
        .scalar_subquery()
    )
    async with engine.connect() as c:
        return list(
            await c.execute(
                select(t.seat_pools.c.id, t.seat_pools.c.seats, t.seat_pools.c.assigned_seats)
                .add_columns(live.label("live"))
                .where(t.seat_pools.c.id.in_(subscription_ids))
            )
        )


async def check(
    engine: AsyncEngine, storm: Storm, dealt: list[list[list[str]]], outcome: Outcome
) -> None:
    assert sum(outcome.counts.values()) == storm.attempts, outcome.counts
    assert set(outcome.counts) <= {"201", *REFUSALS}, outcome.counts  # no 5xx, nothing else
    assigned = outcome.counts["201"]
    assert len(outcome.seats) == assigned
    assert len({seat["id"] for seat in outcome.seats}) == assigned
    held = Counter((seat["subscription_id"], seat["email"]) for seat in outcome.seats)
    assert max(held.values()) == 1  # one live seat per email in a pool
    tried: dict[str, set[str]] = {}
    for plan in dealt:
        for subscription_id, email in plan:
            tried.setdefault(subscription_id, set()).add(email)
    rows = await pool_rows(engine, list(tried))
    assert len(rows) == len(tried)
    for row in rows:
        assert row.live <= row.seats, row  # never oversold
        assert row.assigned_seats == row.live, row  # the counter is the seats
        assert row.live == min(row.seats, len(tried[row.id])), row  # no seat lost
    assert sum(row.live for row in rows) == assigned


def assert_no_server_error(server: Server) -> None:
    """Every request the server logged answered below 500, and nothing failed inside it."""
    statuses = Counter(
        line["status"]
        for line in map(_json_or_none, server.output().splitlines())
        if isinstance(line, dict) and line.get("event") == "request"
    )
    assert statuses, server.output()[-2000:]
    assert all(status < 500 for status in statuses), statuses
    assert "Traceback" not in server.output()


def _json_or_none(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


async def run_storm(runtime: Runtime, folder: Path, storm: Storm) -> Outcome:
    """The whole storm against ``runtime``'s (PostgreSQL) database, checked; answers what the
    clients saw."""
    url = runtime.settings.database_url
    subscription_ids = await pools_for(runtime.engine, storm)
    dealt = plans(subscription_ids, storm)
    _, key = await api_keys.create_api_key(runtime, name="storm")
    env = clean_environment(DATABASE_URL=url, SANDBOX="1")
    # Two server processes; delivery left to no one (the storm is about the assignments).
    with serving(env, folder, "--workers", "2", "--no-delivery") as server:
        outcome = await asyncio.to_thread(blow, server, key, storm, dealt, folder)
    assert_no_server_error(server)
    await check(runtime.engine, storm, dealt, outcome)
    return outcome
