"""The HTTP API under load (SPEC §9), against a real ``seatledger serve --workers 2`` on
PostgreSQL: the server runs as its own processes, with the sandbox on, over a freshly migrated
database that it alone uses.

* ``http.assign_per_second``: seat assignments answered 201 per second, ``wrk`` with
  ``CLIENTS`` connections POSTing ``/v1/seats`` (``assign_seats.lua``): every request a new
  email, the requests spread over ``POOLS`` subscriptions of ``SEATS_PER_POOL`` seats, so no pool
  fills and concurrent assignments rarely wait on one pool's row. No ``Idempotency-Key``: one
  request, one transaction. ``http.assign_per_second_idempotent`` is the same with a new
  ``Idempotency-Key`` on every request (the key's claim and its stored answer are two more
  transactions).
* ``pgbench.tpcb_tps``: pgbench's TPC-B (``-c CLIENTS -j 2``, scale ``CLIENTS`` so that clients
  do not all queue on one branch row), in the same database, alternated with the assignment runs
  in the same process; ``http.assign_share_of_tpcb`` = assignments/s ÷ TPC-B tps, each the best of
  ``ROUNDS``. ``http.assign_server_cpu_ms``: the CPU time the server's processes spent per
  assignment (the median of the rounds), which a busy machine disturbs less than the rates;
  ``http.assign_postgres_cpu_ms`` the same for the database's processes. The server delivers
  the assignments' events meanwhile (its delivery loop), as it does in production.
* ``http.assign_floor_share_of_tpcb``: the same runs against ``benchmarks.floor``, a bare ASGI
  application running only the product's assignment statement (``FLOOR_ROUNDS`` runs after the
  product's): what share of TPC-B an assignment reaches on this machine at all, so the distance
  to the product's share is what the product does around its statement.
  ``http.assign_server_cpu_ms_no_delivery`` and ``http.assign_postgres_cpu_ms_no_delivery``:
  one more run of the product, last, as ``serve --no-delivery`` (its events left undelivered):
  the difference from the figures above is what delivering an assignment's events costs.
* ``http.entitlements_p99_ms``: the 99th percentile latency of ``GET
  /v1/companies/{id}/entitlements`` (an API key; a company with four pools over two products) at
  a constant ``RATE`` requests/s, measured from the moment each request was due
  (``paced_load``), in ``RATE_ROUNDS`` runs of ``RATE_SECONDS``: the median run's (a single
  pause of the machine, 100 ms on this one now and then whatever runs, is the p99 of the run
  it falls in; all runs are printed); ``http.entitlements_per_second``: the most the server
  answers (wrk, closed loop, ``CLIENTS`` connections), which tells whether that rate can be
  kept up at all.

A run fails when more than ``MAX_ERROR_SHARE`` of the requests are not answered as expected, and
when wrk or pgbench is missing. When PostgreSQL cannot be reached, these benchmarks are skipped
and say why (their ``value`` is null and ``skipped`` gives the reason).

PostgreSQL: ``SEATLEDGER_BENCH_DATABASE_URL``, as for the renewal benchmark (its ``public``
schema is dropped and rebuilt; pgbench's tables are created in it too).
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, text

from benchmarks.billing import POSTGRES, _fresh_postgres
from benchmarks.postgres import connect, libpq, unreachable
from seatledger.adapters.db import migrations
from seatledger.adapters.db import tables as t
from seatledger.config import sync_database_url
from seatledger.domain.ids import new_id
from seatledger.pricing import SeatPrice

CLIENTS = 8  # wrk connections and pgbench clients
WORKERS = 2  # `seatledger serve --workers`
SECONDS = 10  # each measured run
WARMUP_SECONDS = 3
ROUNDS = 3  # TPC-B and assignment runs alternate; the best of each is kept
FLOOR_ROUNDS = 2  # runs of the floor (benchmarks.floor) after them; the best is kept
POOLS = 1_000
SEATS_PER_POOL = 1_000_000
RATE = 1_000  # entitlement checks per second
RATE_SECONDS = 10
RATE_ROUNDS = 3
RATE_WARMUP_SECONDS = 2
MAX_ERROR_SHARE = 0.01
LUA = Path(__file__).with_name("assign_seats.lua")

NAMES = {
    "http.assign_per_second": "assignments/s",
    "http.assign_per_second_idempotent": "assignments/s",
    "http.assign_server_cpu_ms": "ms CPU/assignment",
    "http.assign_postgres_cpu_ms": "ms CPU/assignment",
    "http.assign_server_cpu_ms_no_delivery": "ms CPU/assignment",
    "http.assign_postgres_cpu_ms_no_delivery": "ms CPU/assignment",
    "http.assign_floor_per_second": "assignments/s",
    "http.assign_floor_share_of_tpcb": "share",
    "pgbench.tpcb_tps": "transactions/s",
    "http.assign_share_of_tpcb": "share",
    "http.entitlements_per_second": "requests/s",
    "http.entitlements_p99_ms": "ms",
    "http.entitlements_p50_ms": "ms",
}

PRICE = SeatPrice.from_mapping(
    {
        "currency": "usd",
        "interval": "month",
        "tiers_mode": "volume",
        "tiers": [
            {"up_to": 5, "unit_amount": 1000},
            {"up_to": None, "unit_amount": 800},
        ],
    }
)


class BenchmarkFailed(AssertionError):
    pass


# -- PostgreSQL and pgbench -------------------------------------------------------------------


def unavailable(url: str) -> str | None:
    """Why these benchmarks cannot run here (PostgreSQL unreachable), or None. Missing tools
    are an error: ``make bench`` installs wrk, and pgbench comes with PostgreSQL."""
    reason = unreachable(url)
    if reason is not None:
        return reason
    for tool, package in (("pgbench", "postgresql"), ("wrk", "wrk")):
        if shutil.which(tool) is None:
            raise BenchmarkFailed(f"{tool} is not installed (Debian: apt-get install {package})")
    return None


def pgbench_init(url: str, scale: int) -> None:
    _, env = libpq(url)
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", str(scale)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


_TPS = re.compile(
    r"^tps = ([0-9.]+) \((?:without initial connection time|excluding connections establishing)\)",
    re.MULTILINE,
)


def pgbench_tps(url: str, clients: int, seconds: int) -> float:
    """TPC-B transactions per second (pgbench's default script)."""
    _, env = libpq(url)
    run = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", "2", "-T", str(seconds)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    found = _TPS.search(run.stdout)
    if found is None:
        raise BenchmarkFailed(f"no tps in pgbench's output:\n{run.stdout}\n{run.stderr}")
    return float(found.group(1))


# -- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    pools: list[str]  # subscriptions to assign into
    company_id: str  # the company whose entitlements are checked
    company_pools: list[tuple[str, str]] = field(default_factory=list)  # (field, id)


def seed(url: str, pools: int = POOLS) -> Seeded:
    """One product, ``pools`` companies with a subscription of ``SEATS_PER_POOL`` seats each;
    and one more company with four pools over two products (three subscriptions, one paid
    order). Bulk inserts, then ANALYZE."""
    now = datetime.now(UTC)
    start, end = now - timedelta(days=1), now + timedelta(days=30)
    products = [new_id("prod"), new_id("prod")]
    prices = [new_id("price"), new_id("price")]
    companies = [new_id("co") for _ in range(pools)]
    subscriptions = [new_id("sub") for _ in range(pools)]
    checked, checked_subs = new_id("co"), [new_id("sub") for _ in range(3)]
    order = new_id("ord")

    def subscription(sub: str, company: str, email: str, price: str, seats: int) -> dict[str, Any]:
        return {
            "id": sub,
            "company_id": company,
            "owner_email": email,
            "price_id": price,
            "status": "active",
            "seats": seats,
            "billing_anchor": start,
            "current_period_start": start,
            "current_period_end": end,
            "cancel_at_period_end": False,
            "payment_method": "pm_card_ok",
            "payment_customer": company,
            "created_at": start,
            "payment_attempts": 0,
        }

    engine = create_sync_engine(sync_database_url(url))
    with engine.begin() as c:
        for i, (product, price) in enumerate(zip(products, prices, strict=True)):
            c.execute(
                insert(t.products).values(
                    id=product,
                    name=f"Plan {i}",
                    proration_increase="invoice",
                    proration_decrease="prorate",
                    created_at=start,
                )
            )
            c.execute(
                insert(t.prices).values(
                    id=price,
                    product_id=product,
                    version=1,
                    currency="usd",
                    interval="month",
                    seat_sync="manual",
                    definition=PRICE.to_mapping(),
                    created_at=start,
                )
            )
        every = [*companies, checked]
        c.execute(
            insert(t.companies),
            [{"id": co, "name": f"Company {i}", "created_at": start} for i, co in enumerate(every)],
        )
        c.execute(
            insert(t.members),
            [
                {
                    "id": new_id("mem"),
                    "company_id": co,
                    "email": f"boss{i}@bench.test",
                    "role": "billing_manager",
                    "created_at": start,
                }
                for i, co in enumerate(every)
            ],
        )
        owned = [
            subscription(sub, co, f"boss{i}@bench.test", prices[0], SEATS_PER_POOL)
            for i, (sub, co) in enumerate(zip(subscriptions, companies, strict=True))
        ] + [
            subscription(sub, checked, f"boss{pools}@bench.test", prices[i % 2], 10 + i)
            for i, sub in enumerate(checked_subs)
        ]
        # Each subscription's and the order's pool of seats, under the owner's id.
        c.execute(
            insert(t.seat_pools),
            [
                {
                    "id": row["id"],
                    "kind": "subscription",
                    "seats": row.pop("seats"),
                    "created_at": start,
                }
                for row in owned
            ]
            + [{"id": order, "kind": "order", "seats": 25, "created_at": start}],
        )
        c.execute(insert(t.subscriptions), owned)
        c.execute(
            insert(t.orders).values(
                id=order,
                company_id=checked,
                owner_email=f"boss{pools}@bench.test",
                price_id=prices[1],
                status="paid",
                amount=25 * 800,
                currency="usd",
                created_at=start,
            )
        )
    with engine.connect() as c:
        c.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()
    return Seeded(
        pools=subscriptions,
        company_id=checked,
        company_pools=[("subscription_id", sub) for sub in checked_subs] + [("order_id", order)],
    )


def prepare(url: str, *, pools: int = POOLS, scale: int = CLIENTS) -> Seeded:
    """A fresh, migrated and seeded database, with pgbench's tables at ``scale``."""
    _fresh_postgres(url)
    migrations.upgrade(url)
    pgbench_init(url, scale)
    return seed(url, pools)


# -- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _seatledger() -> str:
    beside = Path(sys.executable).with_name("seatledger")
    found = str(beside) if beside.exists() else shutil.which("seatledger")
    if found is None:
        raise BenchmarkFailed("the seatledger command is not installed (make bench installs it)")
    return found


@dataclass
class Server:
    """``seatledger serve`` (or ``command``) as a child process group on a free port."""

    url: str
    workers: int = WORKERS
    options: tuple[str, ...] = ()  # more of `seatledger serve`'s options
    command: list[str] | None = None  # instead of `seatledger serve …`; {port} is filled in
    port: int = 0
    key: str = ""
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "SEATLEDGER_DATABASE_URL": self.url, "SEATLEDGER_SANDBOX": "1"}

    def create_key(self) -> str:
        run = subprocess.run(
            [_seatledger(), "keys", "create", "--name", "benchmark"],
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        )
        self.key = run.stdout.strip().splitlines()[-1]
        return self.key

    def start(self, folder: Path) -> None:
        self.port = _free_port()
        if self.command is None:
            argv = [_seatledger(), "serve", "--port", str(self.port)]
            argv += ["--workers", str(self.workers), *self.options]
        else:
            argv = [part.format(port=self.port) for part in self.command]
        self.log = folder / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                argv, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchmarkFailed(f"the server stopped at start:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base}/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise BenchmarkFailed(f"the server did not answer within 60 s:\n{self.log_tail()}")

    def pids(self) -> list[int]:
        """The server's processes: the first one, then its workers (from /proc)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            found = [int(pid) for pid in children.read_text().split()]
        except OSError:
            found = []
        return [self.process.pid, *found]

    def log_tail(self, lines: int = 40) -> str:
        if self.log is None or not self.log.exists():
            return ""
        kept = [
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if ' HTTP/1.1" ' not in line  # not the access log
        ]
        return "\n".join(kept[-lines:])

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # uvicorn stops its workers, then itself
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def serving(url: str, folder: Path, **options: Any) -> Iterator[Server]:
    server = Server(url, **options)
    server.create_key()
    try:
        server.start(folder)
        yield server
    finally:
        server.stop()


# -- where the CPU went ----------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process so far (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _backends(url: str) -> list[int]:
    """The PostgreSQL server processes serving the database's other connections."""
    with connect(url) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(row[0]) for row in rows]


@dataclass
class CpuMeter:
    """CPU seconds spent by the server's processes, the database's backends (when PostgreSQL
    runs on this machine) and this process's finished children (the load generator) between
    ``start()`` and ``stop()``: a figure that a busy machine disturbs less than a rate."""

    server: Server
    url: str
    spent: dict[str, float] = field(default_factory=dict)
    _before: dict[str, dict[int, float]] = field(default_factory=dict)
    _children: float = 0.0

    def _sample(self) -> dict[str, dict[int, float]]:
        return {
            "server": {pid: _cpu_seconds(pid) for pid in self.server.pids()},
            "postgres": {pid: _cpu_seconds(pid) for pid in _backends(self.url)},
        }

    @staticmethod
    def _own_children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def start(self) -> None:
        self._before = self._sample()
        self._children = self._own_children()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        for part, pids in after.items():
            before = self._before.get(part, {})
            self.spent[part] = sum(cpu - before.get(pid, 0.0) for pid, cpu in pids.items())
        self.spent["client"] = self._own_children() - self._children
        return self.spent


def per_request_ms(spent: dict[str, float], requests: int) -> str:
    if not requests:
        return ""
    parts = ", ".join(f"{part} {cpu / requests * 1000:.2f}" for part, cpu in spent.items())
    return f"CPU ms per request: {parts}"


# -- assignments: wrk -------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkRun:
    seconds: float
    requests: int
    created: int
    refused: dict[str, int]  # status → count, every answer but 201
    socket_errors: int
    timeouts: int
    p50_ms: float
    p99_ms: float
    cpu: dict[str, float] = field(default_factory=dict)
    ok: str = "created"  # what a good answer is called

    @property
    def per_second(self) -> float:
        return self.created / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.refused.values()) + self.socket_errors + self.timeouts

    def describe(self) -> str:
        return (
            f"{self.created:,} {self.ok} in {self.seconds:.1f} s ({self.per_second:,.0f}/s), "
            f"latency p50 {self.p50_ms:.1f} ms p99 {self.p99_ms:.1f} ms, "
            f"{self.failed} failed {self.refused or ''}; {per_request_ms(self.cpu, self.requests)}"
        )


def _wrk(clients: int, seconds: float) -> list[str]:
    """wrk's command line: one thread, which is plenty here and leaves the cores to the server."""
    return ["wrk", "-t", "1", "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s"]


def assign_with_wrk(
    server: Server,
    pools_file: Path,
    *,
    seconds: float,
    clients: int = CLIENTS,
    idempotent: bool = False,
    check: bool = True,
) -> WrkRun:
    tag = new_id("run").removeprefix("run_")
    meter = CpuMeter(server, server.url)
    meter.start()
    argv = [*_wrk(clients, seconds), "-s", str(LUA), server.base]
    argv += ["--", server.key, str(pools_file), tag, "1" if idempotent else "0"]
    run = subprocess.run(
        argv,
        check=True,
        capture_output=True,
        text=True,
    )
    cpu = meter.stop()
    line = next(
        (ln for ln in run.stdout.splitlines() if ln.startswith("SEATLEDGER-WRK ")),
        None,
    )
    if line is None:
        raise BenchmarkFailed(f"wrk said nothing usable:\n{run.stdout}\n{run.stderr}")
    data = json.loads(line.removeprefix("SEATLEDGER-WRK "))
    result = WrkRun(
        seconds=data["duration_us"] / 1e6,
        requests=data["requests"],
        created=data["created"],
        refused=data["refused"],
        socket_errors=data["socket_errors"],
        timeouts=data["timeouts"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        cpu=cpu,
    )
    if check and (result.requests == 0 or result.failed > MAX_ERROR_SHARE * result.requests):
        raise BenchmarkFailed(
            f"seat assignments failed: {result.describe()}\nserver log:\n{server.log_tail()}"
        )
    return result


def get_with_wrk(server: Server, path: str, *, seconds: float, clients: int = CLIENTS) -> WrkRun:
    """GET ``path`` as fast as ``clients`` connections go (closed loop): what the server can
    answer at most."""
    meter = CpuMeter(server, server.url)
    meter.start()
    argv = [*_wrk(clients, seconds), "--latency", "-H", f"Authorization: Bearer {server.key}"]
    run = subprocess.run(
        [*argv, server.base + path],
        check=True,
        capture_output=True,
        text=True,
    )
    cpu = meter.stop()
    out = run.stdout
    found = re.search(r"(\d+) requests in ([0-9.]+)(m?s)", out)
    if found is None:
        raise BenchmarkFailed(f"wrk said nothing usable:\n{out}\n{run.stderr}")
    requests = int(found.group(1))
    elapsed = float(found.group(2)) / (1000 if found.group(3) == "ms" else 1)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def percentile(p: str) -> float:
        value = re.search(rf"^\s+{p}%\s+([0-9.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        if value is None:
            return math.nan
        return float(value.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[value.group(2)]

    failed = int(refused.group(1)) if refused else 0
    result = WrkRun(
        seconds=elapsed,
        requests=requests,
        created=requests - failed,
        refused={"non-2xx": failed} if failed else {},
        socket_errors=sum(int(n) for n in errors.groups()[:3]) if errors else 0,
        timeouts=int(errors.group(4)) if errors else 0,
        p50_ms=percentile("50"),
        p99_ms=percentile("99"),
        cpu=cpu,
        ok="answered",
    )
    if result.requests == 0 or result.failed > MAX_ERROR_SHARE * result.requests:
        raise BenchmarkFailed(f"GET {path} failed: {result.describe()}\n{server.log_tail()}")
    return result


# -- entitlement checks: paced load -----------------------------------------------------------
#
# Neither wrk2 nor another constant-rate load generator is packaged by Debian, and wrk's own
# pacing (a Lua delay() per connection) is closed-loop: a slow answer holds back the requests
# behind it, and their latency is measured from when they finally went out, so stalls hide
# (coordinated omission). A load generator that shares the server's two cores must also stay
# cheap. So: a small open-loop client here, on asyncio streams (no HTTP library: a request is
# a fixed byte string and an answer is read by its Content-Length). Request i is due at
# start + i / rate; it goes out on an idle keep-alive connection, or a new one when every
# connection is busy (up to MAX_CONNECTIONS, then it waits for one), so a slow answer does not
# hold back the next request; and its latency is counted from when it was due, not from when it
# was sent. A request still unanswered GRACE_SECONDS after the last one was due counts with the
# latency it had reached by then. At 1,000 requests/s the client takes about a tenth of one
# core; `late` reports how late the client itself started requests (its timer can wake up to a
# millisecond late, more on a busy machine), which the latencies include.

MAX_CONNECTIONS = 64
GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class PacedRun:
    requests: int  # counted: those due after the warm-up
    latencies_ms: list[float]  # sorted, from when each request was due (every answered one)
    late_ms: list[float]  # sorted, how late the client started each request
    failures: dict[str, int]  # what went wrong (status or error) → count
    unanswered: int  # within GRACE_SECONDS after the end; counted in latencies_ms
    connections: int
    client_cpu: float  # share of one core the client used

    def percentile(self, p: float, values: list[float] | None = None) -> float:
        values = self.latencies_ms if values is None else values
        if not values:
            return math.nan
        return values[min(len(values) - 1, math.ceil(p / 100 * len(values)) - 1)]

    def describe(self) -> str:
        return (
            f"{self.requests:,} requests, latency p50 {self.percentile(50):.2f} ms "
            f"p99 {self.percentile(99):.2f} ms p99.9 {self.percentile(99.9):.2f} ms "
            f"max {self.percentile(100):.2f} ms; client late p99 "
            f"{self.percentile(99, self.late_ms):.2f} ms, {self.connections} connections, "
            f"client CPU {self.client_cpu:.0%} of a core"
            + (f", {self.unanswered:,} unanswered" if self.unanswered else "")
            + (f", failures {self.failures}" if self.failures else "")
        )


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 answer: its status, and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, keep = 0, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
    if length:
        await reader.readexactly(length)
    return status, keep


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _paced(port: int, request: bytes, rate: float, seconds: float, warmup: float) -> PacedRun:
    clock = time.perf_counter
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    every: list[Connection] = []
    opened = 0  # connections open or being opened
    latencies: list[float] = []
    late: list[float] = []
    failures: dict[str, int] = {}
    total = int((warmup + seconds) * rate)
    first_counted = int(warmup * rate)
    start = clock() + 0.05
    due = [start + i / rate for i in range(total)]
    answered = [False] * total

    def failed(what: str) -> None:
        failures[what] = failures.get(what, 0) + 1

    async def one(i: int) -> None:
        nonlocal opened
        started = clock()
        if idle.empty() and opened < MAX_CONNECTIONS:
            opened += 1
            try:
                connection = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                opened -= 1
                raise
            every.append(connection)
        else:
            connection = await idle.get()
        reader, writer = connection
        keep = False
        try:
            writer.write(request)
            status, keep = await _answer(reader)
        finally:
            if not keep:  # broken, or closed by the server: its slot is free again
                writer.close()
                every.remove(connection)
                opened -= 1
        done = clock()
        answered[i] = True
        if keep:
            idle.put_nowait(connection)
        if i >= first_counted:
            if status != 200:
                failed(str(status))
            latencies.append((done - due[i]) * 1000)
            late.append((started - due[i]) * 1000)

    async def guarded(i: int) -> None:
        try:
            await one(i)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            answered[i] = True
            if i >= first_counted:
                failed(type(error).__name__)

    tasks: list[asyncio.Task[None]] = []
    cpu = time.process_time()
    i = 0
    while i < total:
        now = clock()
        while i < total and due[i] <= now:  # every request that is due goes out now
            tasks.append(asyncio.create_task(guarded(i)))
            i += 1
        if i < total:
            await asyncio.sleep(max(0.0, due[i] - clock()))
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, due[-1] + GRACE_SECONDS - clock()))
    ended = clock()
    for task in pending:
        task.cancel()
    unanswered = [k for k in range(first_counted, total) if not answered[k]]
    latencies += [(ended - due[k]) * 1000 for k in unanswered]
    client_cpu = (time.process_time() - cpu) / (ended - start)
    for _, writer in every:
        writer.close()
    return PacedRun(
        requests=total - first_counted,
        latencies_ms=sorted(latencies),
        late_ms=sorted(late),
        failures=failures,
        unanswered=len(unanswered),
        connections=len(every),
        client_cpu=client_cpu,
    )


def paced_load(
    server: Server,
    path: str,
    *,
    rate: float = RATE,
    seconds: float = RATE_SECONDS,
    warmup: float = RATE_WARMUP_SECONDS,
) -> PacedRun:
    """GET ``path`` at ``rate`` requests per second, open-loop (see above)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {server.key}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    try:
        import uvloop  # the client's own loop: cheaper per request, if installed

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    # The client must not stall: a full collection of its own ~12,000 tasks took 70–100 ms,
    # sending the requests due meanwhile at once and counting the client's pause as the
    # server's latency. It allocates little else while it runs, so it collects after.
    gc.collect()
    gc.disable()
    try:
        run: PacedRun = runner(_paced(server.port, request, rate, seconds, warmup))
    finally:
        gc.enable()
    if not run.latencies_ms or sum(run.failures.values()) > MAX_ERROR_SHARE * run.requests:
        raise BenchmarkFailed(
            f"entitlement checks failed: {run.describe()}\nserver log:\n{server.log_tail()}"
        )
    return run


def floor_command() -> list[str]:
    """The floor (``benchmarks.floor``) served as ``seatledger serve`` serves the product."""
    argv = [sys.executable, "-m", "uvicorn", "benchmarks.floor:app", "--port", "{port}"]
    argv += ["--workers", str(WORKERS), "--no-access-log", "--log-level", "warning"]
    return [*argv, "--loop", "uvloop", "--http", "httptools"]


def _assign_some(server: Server, seeded: Seeded) -> None:
    """A few seats in each of the checked company's pools, through the API."""
    headers = {"Authorization": f"Bearer {server.key}"}
    with httpx.Client(base_url=server.base, headers=headers, timeout=30) as client:
        for n, (pool_field, pool_id) in enumerate(seeded.company_pools):
            for k in range(2 + n):
                answer = client.post(
                    "/v1/seats", json={pool_field: pool_id, "email": f"user{n}-{k}@checked.test"}
                )
                if answer.status_code != 201:
                    raise BenchmarkFailed(f"seeding a seat: {answer.status_code} {answer.text}")
        check = client.get(f"/v1/companies/{seeded.company_id}/entitlements")
        if check.status_code != 200 or len(check.json()["products"]) != 2:
            raise BenchmarkFailed(f"entitlements: {check.status_code} {check.text}")


# -- the suite --------------------------------------------------------------------------------


# The tables seat assignments and their delivery write: every assignment updates its pool's row
# and inserts a seat, outbox rows and emails.
CHURNED = ("seat_pools", "seats", "outbox", "emails", "idempotency_keys")


def vacuum(url: str) -> None:
    """What autovacuum does on a PostgreSQL with its defaults, done before each measured run
    (pgbench vacuums its own tables before each run too). This machine's PostgreSQL runs with
    autovacuum off: after 45,000 assignments each pool's row had left hundreds of dead versions
    behind, and every entitlement check walked them (p99 16–89 ms at 1,000/s; 3.2–4.3 ms after
    a vacuum)."""
    with connect(url) as connection:
        connection.execute(f"VACUUM (ANALYZE) {', '.join(CHURNED)}")


def wait_for_delivery(url: str, limit: float = 180.0) -> float:
    """Seconds until the server's delivery loop has caught up with the outbox. The assignment
    rounds leave tens of thousands of events behind; the entitlement checks are measured on a
    server that is not still delivering them (its delivery loop shares the server's CPU)."""
    started = time.monotonic()
    with connect(url) as connection:
        while time.monotonic() - started < limit:
            row = connection.execute(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
            ).fetchone()
            if row is not None and row[0] == 0:
                break
            time.sleep(0.5)
    return time.monotonic() - started


def skipped(reason: str) -> dict[str, dict[str, Any]]:
    return {name: {"value": None, "unit": unit, "skipped": reason} for name, unit in NAMES.items()}


def assign_rounds(url: str, seeded: Seeded, rounds: int, name: str, **serve: Any) -> list[WrkRun]:
    """``rounds`` runs of assignments, after a warm-up, against a server started afresh
    (``serve``: ``Server``'s fields)."""
    with (
        tempfile.TemporaryDirectory(prefix="seatledger-bench-") as tmp,
        serving(url, Path(tmp), **serve) as server,
    ):
        pools_file = Path(tmp) / "pools.txt"
        pools_file.write_text("\n".join(seeded.pools) + "\n")
        vacuum(url)
        assign_with_wrk(server, pools_file, seconds=WARMUP_SECONDS)
        runs = []
        for _ in range(rounds):
            vacuum(url)
            runs.append(assign_with_wrk(server, pools_file, seconds=SECONDS))
            print(f"  assign, {name}: {runs[-1].describe()}", file=sys.stderr)
    return runs


def collect() -> dict[str, dict[str, Any]]:
    url = os.environ.get("SEATLEDGER_BENCH_DATABASE_URL", POSTGRES)
    reason = unavailable(url)
    if reason is not None:
        print(f"http benchmarks skipped: {reason}", file=sys.stderr)
        return skipped(reason)
    seeded = prepare(url)
    tpcb: list[float] = []
    assign: list[WrkRun] = []
    with (
        tempfile.TemporaryDirectory(prefix="seatledger-bench-") as tmp,
        serving(url, Path(tmp)) as server,
    ):
        pools_file = Path(tmp) / "pools.txt"
        pools_file.write_text("\n".join(seeded.pools) + "\n")
        _assign_some(server, seeded)
        assign_with_wrk(server, pools_file, seconds=WARMUP_SECONDS)
        for _ in range(ROUNDS):
            tpcb.append(pgbench_tps(url, CLIENTS, SECONDS))
            print(f"  pgbench TPC-B, {CLIENTS} clients: {tpcb[-1]:,.0f} tps", file=sys.stderr)
            vacuum(url)
            assign.append(assign_with_wrk(server, pools_file, seconds=SECONDS))
            print(f"  assign over HTTP: {assign[-1].describe()}", file=sys.stderr)
        vacuum(url)
        idempotent = assign_with_wrk(server, pools_file, seconds=SECONDS, idempotent=True)
        print(f"  assign with Idempotency-Key: {idempotent.describe()}", file=sys.stderr)
        drained = wait_for_delivery(url)
        print(f"  the assignments' events delivered {drained:.1f} s later", file=sys.stderr)
        vacuum(url)
        entitlements = f"/v1/companies/{seeded.company_id}/entitlements"
        most = get_with_wrk(server, entitlements, seconds=SECONDS)
        print(f"  entitlements, closed loop: {most.describe()}", file=sys.stderr)
        paced = []
        for _ in range(RATE_ROUNDS):
            paced.append(paced_load(server, entitlements))
            print(f"  entitlements at {RATE:,}/s: {paced[-1].describe()}", file=sys.stderr)
        checks = sorted(paced, key=lambda run: run.percentile(99))[len(paced) // 2]
    floor = assign_rounds(url, seeded, FLOOR_ROUNDS, "the floor", command=floor_command())
    # The product once more without its delivery loop (the events it writes stay undelivered):
    # what delivering an assignment's events costs is the difference.
    (undelivered,) = assign_rounds(
        url, seeded, 1, "serve --no-delivery", options=("--no-delivery",)
    )
    best_floor = max(run.per_second for run in floor)
    best_assign = max(run.per_second for run in assign)
    best_tpcb = max(tpcb)
    figures = {
        "http.assign_per_second": round(best_assign),
        "http.assign_per_second_idempotent": round(idempotent.per_second),
        "http.assign_server_cpu_ms": round(
            statistics.median(run.cpu["server"] * 1000 / run.requests for run in assign), 2
        ),
        "http.assign_postgres_cpu_ms": round(
            statistics.median(run.cpu["postgres"] * 1000 / run.requests for run in assign), 2
        ),
        "http.assign_server_cpu_ms_no_delivery": round(
            undelivered.cpu["server"] * 1000 / undelivered.requests, 2
        ),
        "http.assign_postgres_cpu_ms_no_delivery": round(
            undelivered.cpu["postgres"] * 1000 / undelivered.requests, 2
        ),
        "http.assign_floor_per_second": round(best_floor),
        "http.assign_floor_share_of_tpcb": round(best_floor / best_tpcb, 3),
        "pgbench.tpcb_tps": round(best_tpcb),
        "http.assign_share_of_tpcb": round(best_assign / best_tpcb, 3),
        "http.entitlements_per_second": round(most.per_second),
        "http.entitlements_p99_ms": round(checks.percentile(99), 2),
        "http.entitlements_p50_ms": round(checks.percentile(50), 2),
    }
    return {name: {"value": value, "unit": NAMES[name]} for name, value in figures.items()}


if __name__ == "__main__":
    for name, result in collect().items():
        print(f"{name:40} {result['value']!s:>10} {result['unit']}")
