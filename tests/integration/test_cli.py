"""The ``seatledger`` command as a real process: migrate, keys, worker, demo, serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

SEATLEDGER = Path(sys.executable).with_name("seatledger")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["SEATLEDGER_DATABASE_URL"] = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    environment["SEATLEDGER_SANDBOX"] = "1"
    return environment


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEATLEDGER), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_migrate_then_keys_create_list_revoke(env: dict[str, str]) -> None:
    assert run(env, "migrate").returncode == 0
    created = run(env, "keys", "create", "--name", "backend")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("sl_")
    assert len(key) > 30
    refused = run(env, "keys", "create", "--name", "evil\x1b[2J\u202e")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: name: must not contain control characters")
    listed = run(env, "keys", "list")
    assert "backend" in listed.stdout
    assert "evil" not in listed.stdout
    assert key not in listed.stdout
    key_id = listed.stdout.split()[0]
    revoked = run(env, "keys", "revoke", key_id)
    assert revoked.returncode == 0
    assert "revoked" in run(env, "keys", "list").stdout


def test_worker_runs_one_round(env: dict[str, str]) -> None:
    assert run(env, "migrate").returncode == 0
    result = run(env, "worker", "--once")
    assert result.returncode == 0, result.stderr


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_as_a_real_process(env: dict[str, str]) -> None:
    assert run(env, "migrate").returncode == 0
    key = run(env, "keys", "create", "--name", "smoke").stdout.strip().splitlines()[-1]
    port = _free_port()
    server = subprocess.Popen(
        [str(SEATLEDGER), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
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
    finally:
        server.terminate()
        server.wait(timeout=10)
