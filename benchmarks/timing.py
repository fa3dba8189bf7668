"""A small, honest timer: best of several rounds, each long enough to swamp the clock's noise."""

from __future__ import annotations

import time
from collections.abc import Callable


def ops_per_second(run: Callable[[int], object], *, rounds: int = 5, ops: int = 200_000) -> float:
    """``run(n)`` performs ``n`` operations; the best round's rate is reported."""
    run(ops // 10)  # warm caches and the interpreter's specialisation
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter_ns()
        run(ops)
        elapsed = time.perf_counter_ns() - start
        best = max(best, ops / (elapsed / 1e9))
    return best
