"""Stateful schemathesis, bounded (``tests/e2e/stateful.py``): sequences of linked calls over
every route, none a server error. ``make soak`` runs a longer form twice and compares them."""

from __future__ import annotations

from tests.e2e import stateful

SCENARIOS = 15
STEPS = 10


def test_no_sequence_of_calls_is_a_server_error() -> None:
    calls = stateful.run(SCENARIOS, STEPS)
    seen = stateful.statuses(calls)
    assert not [status for status in seen if status >= 500], seen
    assert seen[200] + seen[201] > 0, seen  # the sequences reached past their first call
