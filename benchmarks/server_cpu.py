"""The server's CPU per request, in one process: the ASGI application called directly (no
socket, no load generator), so a busy machine disturbs the figure far less than it disturbs a
rate. Not part of ``make bench``: it is how the hot paths' CPU is compared before and after a
change (run it against each version of the code, alternated, best of several rounds).

    python -m benchmarks.server_cpu prepare   # rebuild the database (SEATLEDGER_BENCH_DATABASE_URL)
    python -m benchmarks.server_cpu measure   # one JSON line: ms of CPU per request

``measure`` creates an API key, then, ``ROUNDS`` times: ``REQUESTS`` seat assignments (``POST
/v1/seats``, a new email each, over the seeded subscriptions), the delivery rounds that fan
their events out (the server's own delivery loop does this work in ``make bench``; counted per
assignment), and ``REQUESTS`` entitlement checks. Each figure is the best round's. With
``SEATLEDGER_CPU_IDEMPOTENT=1`` every assignment carries a new ``Idempotency-Key``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import tempfile
import time
import uuid
from typing import Any

from benchmarks.billing import POSTGRES, _fresh_postgres
from benchmarks.http_api import seed
from seatledger.adapters.db import migrations

REQUESTS = int(os.environ.get("SEATLEDGER_CPU_REQUESTS", "500"))
ROUNDS = int(os.environ.get("SEATLEDGER_CPU_ROUNDS", "3"))
IDEMPOTENT = os.environ.get("SEATLEDGER_CPU_IDEMPOTENT") == "1"  # a new Idempotency-Key each
POOLS = 100


def _url() -> str:
    return os.environ.get("SEATLEDGER_BENCH_DATABASE_URL", POSTGRES)


def prepare() -> None:
    url = _url()
    _fresh_postgres(url)
    migrations.upgrade(url)
    seeded = seed(url, POOLS)
    with open(os.environ.get("SEATLEDGER_CPU_SEEDED", "/tmp/seatledger-cpu.json"), "w") as out:
        json.dump({"pools": seeded.pools, "company_id": seeded.company_id}, out)


class _Client:
    """Calls an ASGI application as uvicorn would, one request at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes):
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


async def _measure() -> dict[str, Any]:
    from seatledger.api import app as app_module
    from seatledger.api.app import create_app
    from seatledger.api.event_rendering import event_renderer
    from seatledger.bootstrap import build_runtime, delivery_channels
    from seatledger.observability import logs
    from seatledger.services import api_keys, delivery

    os.environ["SEATLEDGER_DATABASE_URL"] = _url()
    os.environ["SEATLEDGER_SANDBOX"] = "1"
    with open(os.environ.get("SEATLEDGER_CPU_SEEDED", "/tmp/seatledger-cpu.json")) as seeded_file:
        seeded = json.load(seeded_file)
    logs.configure("json")  # the request lines, written to stderr as the server writes them
    rt = build_runtime(render_event=event_renderer)
    app = create_app(rt, delivery_loop=False)
    _, key = await api_keys.create_api_key(rt, name="cpu")
    settle = getattr(app_module, "settle_garbage_collector", None)
    if settle is not None and os.environ.get("SEATLEDGER_CPU_GC", "1") == "1":
        settle()  # as a server process does once it has started
    pauses: list[float] = []
    started: list[float] = []

    def timed(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(timed)
    client = _Client(app)
    auth = (b"authorization", f"Bearer {key}".encode())
    channels = delivery_channels(rt)
    tag = uuid.uuid4().hex[:8]
    pools = seeded["pools"]
    entitlements = f"/v1/companies/{seeded['company_id']}/entitlements"
    assign_headers = [
        (b"host", b"127.0.0.1:8000"),
        auth,
        (b"content-type", b"application/json"),
    ]
    get_headers = [(b"host", b"127.0.0.1:8000"), auth, (b"accept", b"application/json")]

    # Drain what earlier runs left, and warm every path up.
    while not (await delivery.run_round(rt, channels)).nothing_done:
        pass
    for i in range(50):
        body = json.dumps({"subscription_id": pools[i % len(pools)], "email": f"w{tag}{i}@b.test"})
        status, text = await client.call("POST", "/v1/seats", assign_headers, body.encode())
        assert status == 201, text
        status, text = await client.call("GET", entitlements, get_headers, b"")
        assert status == 200, text
    while not (await delivery.run_round(rt, channels)).nothing_done:
        pass

    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, value), value)

    n = 0
    for _ in range(ROUNDS):
        bodies = []
        for _ in range(REQUESTS):
            n += 1
            email = f"s{tag}{n}@b.test"
            bodies.append(
                json.dumps({"subscription_id": pools[n % len(pools)], "email": email}).encode()
            )
        cpu = time.process_time()
        for i, body in enumerate(bodies):
            headers = assign_headers
            if IDEMPOTENT:
                headers = [*assign_headers, (b"idempotency-key", f"{tag}-{n}-{i}".encode())]
            status, text = await client.call("POST", "/v1/seats", headers, body)
            if status != 201:
                raise AssertionError(text)
        keep("assign_ms", (time.process_time() - cpu) * 1000 / REQUESTS)
        cpu = time.process_time()
        while not (await delivery.run_round(rt, channels)).nothing_done:
            pass
        keep("deliver_ms_per_assignment", (time.process_time() - cpu) * 1000 / REQUESTS)
        cpu = time.process_time()
        for _ in range(REQUESTS):
            status, text = await client.call("GET", entitlements, get_headers, b"")
            if status != 200:
                raise AssertionError(text)
        keep("entitlements_ms", (time.process_time() - cpu) * 1000 / REQUESTS)
    await rt.engine.dispose()
    gc.callbacks.remove(timed)
    best["gc_collections"] = len(pauses)
    best["gc_ms_total"] = sum(pauses) * 1000
    best["gc_ms_max"] = max(pauses, default=0.0) * 1000
    return {name: round(value, 3) for name, value in sorted(best.items())}


def main() -> None:
    if sys.argv[1:] == ["prepare"]:
        prepare()
        return
    # As `seatledger serve --workers 2` counts: prometheus-client's multi-process files.
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="seatledger-cpu-"))
    try:
        import uvloop

        result = uvloop.run(_measure())
    except ImportError:
        result = asyncio.run(_measure())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
