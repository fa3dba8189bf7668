"""The stateful model (``tests.model.machine``) on every configured database.

CI runs a bounded number of sequences; ``SEATLEDGER_SOAK=1`` (``make soak``) runs 10,000 or
``SEATLEDGER_MODEL_EXAMPLES``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.model.machine import EngineModel

SOAK = os.environ.get("SEATLEDGER_SOAK") == "1"
EXAMPLES = int(os.environ.get("SEATLEDGER_MODEL_EXAMPLES", "10000" if SOAK else "25"))


def test_the_engine_keeps_its_invariants_through_any_sequence(database_url: str) -> None:
    machine = type("Model", (EngineModel,), {"database_url": database_url})
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None if SOAK else settings.default.database,
            ),
        )
    finally:
        machine.close()
    outcomes = machine.outcomes
    if SOAK:
        ran = EngineModel.ran
        print(f"{ran['sequences']} sequences, {ran['checks']} invariant checks passed")
        for (use_case, answer), n in sorted(outcomes.items()):
            print(f"{use_case:32} {answer:24} {n}")
    # The sequences reach what they are meant to: renewals, refusals and successes alike.
    assert outcomes[("confirm_checkout", "ok")] > 0
    assert outcomes[("assign_seat", "ok")] > 0
    assert outcomes[("change_subscription", "ok")] > 0
