"""The ``seatledger`` command as a real process: migrate, keys, worker, demo, serve."""

from __future__ import annotations

import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.cli import app
from seatledger.config import Settings
from seatledger.domain.clock import FixedClock
from seatledger.services import cancellation
from seatledger.services.runtime import Runtime
from tests.integration import shop
from tests.integration.processes import (
    SEATLEDGER,
    clean_environment,
    free_port,
    migrate,
    run,
    serving,
)
from tests.integration.shop import utc


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # commands read the .env of the current folder: none
    return clean_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}", SANDBOX="1")


def test_migrate_then_keys_create_list_revoke(env: dict[str, str]) -> None:
    migrated = run(env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "database is up to date" in migrated.stdout
    empty = run(env, "keys", "list").stdout.splitlines()
    assert empty[0].split() == ["ID", "KEY", "NAME", "SCOPES", "CREATED", "STATE"]
    assert "no API keys yet" in empty[1]
    created = run(env, "keys", "create", "--name", "backend")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("sl_")
    assert len(key) > 30
    refused = run(env, "keys", "create", "--name", "evil\x1b[2J\u202e")
    assert refused.returncode == 1
    assert refused.stderr.startswith("--name must not contain control characters")
    listed = run(env, "keys", "list")
    header, row = listed.stdout.strip().splitlines()
    assert header.split() == ["ID", "KEY", "NAME", "SCOPES", "CREATED", "STATE"]
    assert "backend" in row
    assert "evil" not in listed.stdout
    assert row.endswith("active")
    assert key not in listed.stdout
    assert row.index("backend") == header.index("NAME")  # the columns line up
    key_id = row.split()[0]
    revoked = run(env, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked" in run(env, "keys", "list").stdout.splitlines()[1]


def test_a_kept_key_is_printed_again_while_it_works(env: dict[str, str], tmp_path: Path) -> None:
    """What ``make run`` does: the key made the first time is printed at every start."""
    migrate(env)
    kept = tmp_path / "var" / "make-run.key"
    args = ("keys", "create", "--name", "make run", "--reuse-file", str(kept))
    first = run(env, *args)
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert f"kept in {kept}" in first.stdout
    assert kept.read_text().strip() == key
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    again = run(env, *args)
    assert again.stdout.strip().splitlines()[-1] == key
    assert "reusing" in again.stdout
    assert len(run(env, "keys", "list").stdout.strip().splitlines()) == 2  # one key only

    # Read-only asked for: the kept key does not fit, a new one replaces it.
    read_only = run(env, *args, "--read-only").stdout.strip().splitlines()[-1]
    assert read_only != key
    assert kept.read_text().strip() == read_only

    # Revoked, or made for another database: a new key.
    key_id = run(env, "keys", "list").stdout.strip().splitlines()[-1].split()[0]
    assert run(env, "keys", "revoke", key_id).returncode == 0
    renewed = run(env, *args).stdout.strip().splitlines()[-1]
    assert renewed not in (key, read_only)
    other = {**env, "SEATLEDGER_DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}"}
    migrate(other)
    elsewhere = run(other, *args)
    assert "created" in elsewhere.stdout
    assert elsewhere.stdout.strip().splitlines()[-1] != renewed


def test_worker_once_says_nothing_is_due(env: dict[str, str]) -> None:
    migrate(env)
    result = run(env, "worker", "--once")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "nothing due"


async def _move_sandbox_clock(url: str, *moment: int) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(update(t.sandbox_clock).values(now=utc(*moment)))
    finally:
        await engine.dispose()


async def test_worker_once_says_what_it_did(env: dict[str, str], tmp_path: Path) -> None:
    migrate(env)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = create_engine(url)
    clock = FixedClock(utc(2030, 1, 1))
    rt = Runtime(engine, clock, Settings(database_url=url, sandbox=True), LocalGateway())
    try:
        [price_id] = await shop.product(rt)
        company_id = await shop.company(rt)
        await shop.subscribe(rt, price_id, company_id, 2)
        await shop.subscribe(rt, price_id, company_id, 1, payment_method="pm_card_fail_after_first")
        leaving = await shop.subscribe(rt, price_id, company_id, 1)
        await cancellation.cancel_subscription(rt, leaving, at_period_end=True)
    finally:
        await engine.dispose()

    # Two periods end. The local gateway's state is the worker process's own: there the
    # "fail after first" card pays the February renewal and is declined in March.
    await _move_sandbox_clock(url, 2030, 3, 1, 1)
    first = run(env, "worker", "--once")
    assert first.returncode == 0, first.stderr
    # The round's renewals, then its delivery: the events so far, the renewals' included.
    renewed, delivered = first.stdout.strip().split("; ")
    assert renewed == "4 renewals, 0 payment retries, 1 cancellation (1 payment declined)"
    assert re.fullmatch(r"\d+ events delivered", delivered), delivered
    assert await _undelivered(url) == 0
    await _move_sandbox_clock(url, 2030, 3, 2, 2)  # the first retry of the declined renewal
    retried = run(env, "worker", "--once").stdout.strip()
    assert retried.startswith("0 renewals, 1 payment retry, 0 cancellations; ")
    assert run(env, "worker", "--once").stdout.strip() == "nothing due"


async def _undelivered(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            query = select(func.count()).where(t.outbox.c.delivered_at.is_(None))
            return int((await connection.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def test_worker_once_delivers_the_outbox(env: dict[str, str], tmp_path: Path) -> None:
    migrate(env)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    engine = create_engine(url)
    rt = Runtime(engine, FixedClock(), Settings(database_url=url, sandbox=True), LocalGateway())
    try:
        await shop.company(rt)  # company.created, member.added
    finally:
        await engine.dispose()
    assert await _undelivered(url) == 2
    result = run(env, "worker", "--once")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2 events delivered"
    assert await _undelivered(url) == 0
    assert run(env, "worker", "--once").stdout.strip() == "nothing due"


async def test_worker_delivers_every_second_and_stops_on_sigterm(
    env: dict[str, str], tmp_path: Path
) -> None:
    migrate(env)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    port = free_port()
    process = subprocess.Popen(
        [str(SEATLEDGER), "worker", "--delivery-interval", "0.2", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1)  # it has started and found nothing to do
        engine = create_engine(url)
        rt = Runtime(engine, FixedClock(), Settings(database_url=url, sandbox=True), LocalGateway())
        try:
            await shop.company(rt)
        finally:
            await engine.dispose()
        deadline = time.monotonic() + 30
        while await _undelivered(url) and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.1)
        assert await _undelivered(url) == 0
        # Its own series, on its own port: the rounds it ran, counted in its process.
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert 'seatledger_jobs_total{job="delivery",outcome="ok"}' in scraped
        assert 'seatledger_jobs_total{job="renewals",outcome="ok"}' in scraped
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "2 events delivered" in out.splitlines()


def test_demo_tells_the_story_with_amounts(env: dict[str, str]) -> None:
    result = run(env, "demo")
    assert result.returncode == 0, result.stderr
    story = result.stdout
    for step in range(1, 12):
        assert f"\n{step}. " in f"\n{story}"
    assert "30.00 USD" in story  # 3 monthly seats at 10.00
    assert "Unused time" in story  # the switch to annual credits the rest of January
    assert "attaches to it" in story
    assert "(attached, 2 seats)" in story


def test_serve_answers_as_a_real_process(env: dict[str, str], tmp_path: Path) -> None:
    migrate(env)
    key = run(env, "keys", "create", "--name", "smoke").stdout.strip().splitlines()[-1]
    with serving(env, tmp_path) as server:
        base = server.base
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/v1/products", headers=headers).status_code == 200
        unauthenticated = httpx.get(f"{base}/v1/products")
        assert unauthenticated.status_code == 401
        assert unauthenticated.headers["content-type"].startswith("application/problem+json")
        created = httpx.post(
            f"{base}/v1/products",
            headers=headers,
            json={
                "name": "Smoke",
                "prices": [
                    {
                        "currency": "usd",
                        "interval": "month",
                        "tiers": [{"up_to": None, "unit_amount": 100}],
                    }
                ],
            },
        )
        assert created.status_code == 201, created.text
        clock = httpx.get(f"{base}/v1/sandbox/clock", headers=headers)
        assert clock.status_code == 200
        assert "now" in clock.json()


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["migrate"],
        ["worker"],
        ["demo"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
    ],
)
def test_help_is_plain_text(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    assert "``" not in result.output  # no documentation markup
    assert "seatledger." not in result.output  # nor the names of modules
    assert ".py" not in result.output
