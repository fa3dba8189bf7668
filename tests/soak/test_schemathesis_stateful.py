"""Stateful schemathesis at length (``tests/e2e/stateful.py``; ``make test`` runs a bounded
form): no sequence of calls is a server error, and the run is replayable — two runs draw the
same calls and get the same answers."""

from __future__ import annotations

from tests.e2e import stateful

SCENARIOS = 60
STEPS = 15


def test_long_sequences_of_calls_are_never_a_server_error_and_replay_alike() -> None:
    first = stateful.run(SCENARIOS, STEPS)
    seen = stateful.statuses(first)
    assert not [status for status in seen if status >= 500], seen
    assert stateful.run(SCENARIOS, STEPS) == first
    print(f"stateful schemathesis: {len(first)} calls in {SCENARIOS} sequences: {dict(seen)}")
