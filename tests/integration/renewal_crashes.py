"""A renewal run killed again and again: the harness of ``test_renewal_crashes`` (bounded, CI)
and ``tests/soak/test_renewal_crashes`` (1,000 subscriptions, killed until done).

Due subscriptions are written straight into the database, as ``benchmarks/billing.py`` seeds
them; then ``seatledger worker --once`` runs as a real process and dies, each time in one of
these ways:

* ``SIGKILL`` after a random delay (start-up, the batch's transaction, the charges, …);
* at a crash point of ``seatledger.faults``: the batch's invoices written but its periods not
  moved (``renewal_invoiced``), the batch committed with no charge sent (``renewal_committed``),
  after a random one of the charges (``charged@n``), the outcomes written but not committed
  (``payments_recorded``).

After each kill the sandbox clock moves past ``COLLECTION_LEASE``: the charges a killed run had
claimed come due again, as they would once that time passed. Then runs go on until one does
its work unkilled and a last one finds nothing due; ``check`` then counts what was billed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.billing import CREDIT, DUE, seed_due_subscriptions
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement

from seatledger.adapters.db import tables as t
from seatledger.adapters.payments.local import reference_for
from seatledger.services.collection import COLLECTION_LEASE
from tests.integration.processes import SEATLEDGER, clean_environment

NEXT_END = datetime(2027, 3, 1, tzinfo=UTC)
FAULTS = ("renewal_invoiced", "renewal_committed", "charged", "payments_recorded")
RUN_TIMEOUT = 300.0  # seconds for one unkilled run: the machine may be busy


async def seed(engine: AsyncEngine, count: int) -> None:
    """``count`` companies, each with a billing manager and a subscription of 1–15 seats due at
    ``DUE``, paid with ``pm_card_ok`` (the renewal benchmark's seeding); the sandbox clock a
    minute past ``DUE``."""
    await seed_due_subscriptions(engine, count)
    await move_clock(engine, DUE + timedelta(minutes=1))


async def sandbox_time(engine: AsyncEngine) -> datetime | None:
    async with engine.connect() as c:
        value = (await c.execute(select(t.sandbox_clock.c.now))).scalar()
    return value if isinstance(value, datetime) else None


async def move_clock(engine: AsyncEngine, moment: datetime) -> None:
    async with engine.begin() as c:
        await c.execute(update(t.sandbox_clock).where(t.sandbox_clock.c.id == 1).values(now=moment))


@dataclass
class Tally:
    """What the crash loop did."""

    kills: Counter[str] = field(default_factory=Counter)  # by way of dying
    runs: int = 0  # worker processes started: the first run and every restart

    @property
    def killed(self) -> int:
        return sum(self.kills.values())


def _start(database_url: str, log: Path, fault: str | None) -> subprocess.Popen[bytes]:
    env = clean_environment(DATABASE_URL=database_url, SANDBOX="1")
    if fault is not None:
        env["SEATLEDGER_FAULT"] = fault
    with log.open("ab") as sink:
        return subprocess.Popen(
            [str(SEATLEDGER), "worker", "--once"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait(process: subprocess.Popen[bytes], log: Path) -> int:
    try:
        return process.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise AssertionError(f"a worker run did not finish:\n{log.read_text()}") from None


def random_way(chance: random.Random, subscriptions: int) -> tuple[str, str | None, float]:
    """A way for the next run to die: (its name in the tally, its crash point, or else a delay
    before SIGKILL)."""
    if chance.random() < 0.4:
        return "random delay", None, chance.uniform(0.5, 6.0)
    return way(chance.choice(FAULTS), chance, subscriptions)


def way(name: str, chance: random.Random, subscriptions: int) -> tuple[str, str | None, float]:
    """Dying at the crash point ``name``; ``charged`` after a random one of the charges."""
    if name == "charged":
        return name, f"charged@{chance.randint(1, subscriptions)}", 0.0
    return name, name, 0.0


async def kill_once(
    engine: AsyncEngine,
    database_url: str,
    log: Path,
    death: tuple[str, str | None, float],
    tally: Tally,
) -> bool:
    """Run the worker once and kill it as ``death`` says; answers whether it died (it finishes
    its work instead when it never reaches the point). Then the clock moves past the leases a
    killed run may hold."""
    name, fault, delay = death
    with log.open("a") as note:
        note.write(f"--- run {tally.runs + 1}: {fault or f'SIGKILL after {delay:.2f} s'}\n")
    process = _start(database_url, log, fault)
    tally.runs += 1
    if fault is None:
        deadline = time.monotonic() + delay
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    code = _wait(process, log)
    died = code != 0
    if died:
        assert code in (1, -signal.SIGKILL), f"exit {code}:\n{log.read_text()}"
        tally.kills[name] += 1
    now = await sandbox_time(engine)
    assert now is not None
    await move_clock(engine, now + COLLECTION_LEASE + timedelta(minutes=1))
    return died


def run_clean(database_url: str, log: Path, tally: Tally) -> str:
    """One unkilled ``worker --once``; answers its summary line."""
    with log.open("a") as note:
        note.write(f"--- run {tally.runs + 1}: unkilled\n")
    size = log.stat().st_size
    process = _start(database_url, log, None)
    tally.runs += 1
    code = _wait(process, log)
    with log.open("rb") as read:
        read.seek(size)
        output = read.read().decode(errors="replace")
    assert code == 0, output
    return output.strip().splitlines()[-1]


def finish(database_url: str, log: Path, tally: Tally, *, most: int = 10) -> None:
    """Unkilled runs until one finds nothing due."""
    for _ in range(most):
        if run_clean(database_url, log, tally) == "nothing due":
            return
    raise AssertionError(f"still something due after {most} runs:\n{log.read_text()}")


@dataclass
class Billed:
    """The figures ``check`` found."""

    subscriptions: int
    invoices: int
    payments: int
    duplicates: int  # periods billed, charges recorded or events written more than once
    lost: int  # subscriptions not renewed, invoices unpaid, charges or events missing


async def _rows(
    engine: AsyncEngine, *columns: ColumnElement[Any], where: ColumnElement[bool] | None = None
) -> list[tuple[Any, ...]]:
    query = select(*columns) if where is None else select(*columns).where(where)
    async with engine.connect() as c:
        return [tuple(row) for row in await c.execute(query)]


async def check(engine: AsyncEngine, count: int) -> Billed:
    """Count what the runs billed; every subscription must be renewed exactly once."""
    subs = await _rows(
        engine,
        t.subscriptions.c.id,
        t.subscriptions.c.current_period_start,
        t.subscriptions.c.current_period_end,
        t.subscriptions.c.status,
        t.subscriptions.c.next_payment_attempt_at,
        t.subscriptions.c.payment_attempts,
    )
    advanced = [
        s for s in subs if (s[1], s[2], s[3], s[4], s[5]) == (DUE, NEXT_END, "active", None, 0)
    ]
    invoices = await _rows(
        engine,
        t.invoices.c.id,
        t.invoices.c.subscription_id,
        t.invoices.c.status,
        t.invoices.c.total,
        t.invoices.c.period_start,
        where=t.invoices.c.reason == "subscription_cycle",
    )
    per_sub = Counter(i[1] for i in invoices)
    payments = await _rows(
        engine,
        t.payments.c.invoice_id,
        t.payments.c.provider_reference,
        t.payments.c.amount,
        t.payments.c.status,
    )
    per_invoice = Counter(p[0] for p in payments)
    charged = [i for i in invoices if i[3] > 0]
    # One charge per invoice: the one taken under its first attempt's key, and no other.
    expected = {
        (i[0], reference_for(f"invoice:{i[0]}:attempt:1"), i[3], "succeeded") for i in charged
    }
    events = await _rows(engine, t.outbox.c.type, t.outbox.c.payload)
    renewed = Counter(str(p["id"]) for kind, p in events if kind == "subscription.renewed")
    paid = Counter(str(p["id"]) for kind, p in events if kind == "invoice.paid")

    duplicates = (
        sum(n - 1 for n in per_sub.values())
        + sum(n - 1 for n in per_invoice.values())
        + sum(n - 1 for n in renewed.values())
        + sum(n - 1 for n in paid.values())
    )
    lost = (
        (count - len(advanced))
        + (count - len(per_sub))
        + sum(1 for i in invoices if i[2] != "paid" or i[4] != DUE)
        + len(expected - set(payments))
        + (count - len(renewed))
        + (len(charged) - len(paid))
    )
    assert set(payments) <= expected, "a payment that is no invoice's first charge"
    return Billed(count, len(invoices), len(payments), duplicates, lost)


async def check_money(engine: AsyncEngine) -> None:
    """Each waiting line went into its subscription's one renewal invoice, and each credit
    balance lost exactly what its invoice applied."""
    lines = await _rows(engine, t.pending_lines.c.subscription_id, t.pending_lines.c.invoice_id)
    invoice_of = dict(
        await _rows(
            engine,
            t.invoices.c.subscription_id,
            t.invoices.c.id,
            where=t.invoices.c.reason == "subscription_cycle",
        )
    )
    assert lines
    assert all(invoice == invoice_of[sub] for sub, invoice in lines)
    async with engine.connect() as c:
        applied = dict(
            (
                await c.execute(
                    select(t.invoices.c.company_id, func.sum(t.invoices.c.credit_applied))
                    .where(t.invoices.c.reason == "subscription_cycle")
                    .group_by(t.invoices.c.company_id)
                )
            ).all()
        )
        balances = dict(
            (
                await c.execute(select(t.credit_balances.c.company_id, t.credit_balances.c.amount))
            ).all()
        )
    assert balances
    assert all(balances[co] == CREDIT - applied[co] for co in balances)
    assert sum(applied.values()) == CREDIT * len(balances)  # the whole credit was used


def report(billed: Billed, tally: Tally) -> str:
    ways = ", ".join(f"{way} {n}" for way, n in sorted(tally.kills.items()))
    return (
        f"renewal crashes: {billed.subscriptions} subscriptions, {tally.killed} kills ({ways}),"
        f" {tally.runs - 1} restarts, {billed.invoices} invoices, {billed.payments} payments,"
        f" duplicates {billed.duplicates}, lost {billed.lost}"
    )
