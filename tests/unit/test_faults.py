"""The crash points (``seatledger.faults``): a process exits at the named point, the first
time it reaches it or, with ``@n``, the n-th time; not otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

REACH_FIVE_TIMES = (
    "from seatledger import faults\n"
    "for n in range(1, 6):\n"
    "    faults.reached('charged')\n"
    "    print(n, flush=True)\n"
)


def _run(fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SEATLEDGER_FAULT"}
    if fault is not None:
        env["SEATLEDGER_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", REACH_FIVE_TIMES],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("fault", "code", "printed"),
    [
        (None, 0, "1 2 3 4 5"),
        ("recorded", 0, "1 2 3 4 5"),  # another point: never reached
        ("charged", 1, ""),
        ("charged@1", 1, ""),
        ("charged@3", 1, "1 2"),
        ("charged@9", 0, "1 2 3 4 5"),  # reached fewer times than that
    ],
)
def test_a_process_exits_at_its_point(fault: str | None, code: int, printed: str) -> None:
    result = _run(fault)
    assert result.returncode == code, result.stderr
    assert " ".join(result.stdout.split()) == printed
