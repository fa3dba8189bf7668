"""The sandbox clock under ``seatledger serve --workers 2``: a move through one process is what
every process reads next (the time is kept in the database, read on every request)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.processes import clean_environment, migrate, run, serving


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    env = clean_environment(DATABASE_URL=f"sqlite:///{tmp_path / 'clock.sqlite3'}", SANDBOX="1")
    env["TMPDIR"] = str(tmp_path)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    migrate(env)
    return env


def test_a_clock_moved_through_one_worker_is_read_by_every_worker(
    env: dict[str, str], tmp_path: Path
) -> None:
    created = run(env, "keys", "create", "--name", "clock")
    assert created.returncode == 0, created.stderr
    headers = {"Authorization": f"Bearer {created.stdout.strip().splitlines()[-1]}"}
    with serving(env, tmp_path, "--workers", "2", "--no-delivery") as server:
        url = f"{server.base}/v1/sandbox/clock"
        for month in (3, 7, 11):
            moved = httpx.post(url, json={"now": f"2031-{month:02}-01T00:00:00Z"}, headers=headers)
            assert moved.status_code == 200, moved.text
            # New connections each: both processes answer some of these.
            answers = {httpx.get(url, headers=headers).json()["now"] for _ in range(30)}
            assert answers == {f"2031-{month:02}-01T00:00:00Z"}
