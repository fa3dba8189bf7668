"""Running the ``seatledger`` command as a real process: one-off commands and a live server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from seatledger.adapters.db import migrations

SEATLEDGER = Path(sys.executable).with_name("seatledger")
STARTUP_TIMEOUT = 60.0  # seconds: the machine may be busy with other test runs


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any SEATLEDGER_ variable, plus ``settings``
    (``DATABASE_URL="…"`` sets ``SEATLEDGER_DATABASE_URL``). Run the commands from a folder of
    the test's own (``monkeypatch.chdir``): a ``.env`` there is read too."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATLEDGER_")}
    environment.update({f"SEATLEDGER_{name}": value for name, value in settings.items()})
    return environment


def migrate(env: dict[str, str]) -> None:
    """Migrate the database of ``env`` here, which is quicker than a ``seatledger migrate``."""
    migrations.upgrade(env["SEATLEDGER_DATABASE_URL"])


def run(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEATLEDGER), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_fails_in_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The command failed with one line on stderr containing ``needles``, and no traceback."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serving(env: dict[str, str], tmp_path: Path, *args: str) -> Iterator[Server]:
    """``seatledger serve`` on a free port, answering; stopped afterwards (its output stays
    in ``server.log``, complete once the block ends)."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(SEATLEDGER), "serve", "--port", str(port), *args],
            env=env,
            cwd=tmp_path,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                # Generous: the first /openapi.json is built on demand, and on a machine busy
                # with other runs that took longer than 2 s; a timed-out wait starts over.
                httpx.get(f"{server.base}/openapi.json", timeout=15)
                break
            except httpx.TransportError:
                assert process.poll() is None, server.output()
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
