"""Schemathesis in stateful mode over every route: sequences of calls where each answer's ids
feed the next call (links schemathesis infers from ``/openapi.json``: a company's ``id`` into
``{company_id}``, …), and none is a server error. On SQLite, with a merchant API key.

Every sequence starts from the same state, so a sequence drawn again (hypothesis replays one
to shrink it, and checks as it generates that a choice it made before leads where it led) gets
the same answers. Hypothesis decides which calls may come next from the answers before (a link
follows only from the status it is defined for), so an answer that differs on a replay changes
what is drawn there, and hypothesis stops with ``FlakyStrategyDefinition``. That is what
happened when the sequences shared one database and one app: an earlier sequence's companies,
external ids and members turned a later 201 into a 409, the sandbox clock it had moved (its
row only moves forward) stayed moved, and the claim throttle, which counts wall-clock time,
answered 429 or not depending on how fast the machine ran — so a busy CI machine saw it and an
idle one did not. Now each sequence starts with empty tables, the clock at its start, a new
key, and the throttle off (its own tests cover it; it would make answers depend on timing).
Ids are made alike too (``Ids``): they sort by the millisecond they were made in, then by
random bits, so two objects of one millisecond could list in either order.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from sqlalchemy.pool import NullPool

from seatledger.adapters.db import migrations
from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.api.app import create_app
from seatledger.config import Settings
from seatledger.domain import ids
from seatledger.domain.clock import FixedClock
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from tests.conftest import _empty_tables

START = datetime(2027, 1, 1, tzinfo=UTC)


class Ids:
    """What ``seatledger.domain.ids`` reads the time and its random bits from, the same in every
    sequence: a millisecond later for each id, and seeded bits."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._random = random.Random(0)
        self._milliseconds = int(START.timestamp() * 1000)

    def time_ns(self) -> int:
        self._milliseconds += 1
        return self._milliseconds * 1_000_000

    def randbits(self, bits: int) -> int:
        return self._random.getrandbits(bits)


async def _fresh(runtime: Runtime, clock: FixedClock, made: Ids) -> str:
    """Empty tables, the clock and the ids at the start, and a new merchant key (answered)."""
    await _empty_tables(runtime.engine)
    clock.set(START)
    made.reset()
    _, key = await api_keys.create_api_key(runtime, name="stateful")
    return key


def _workflow(runtime: Runtime, clock: FixedClock, made: Ids, calls: list[tuple[str, int]]) -> Any:
    """The state machine over the app of ``runtime``; it writes each call into ``calls``."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.key = asyncio.run(_fresh(runtime, clock, made))

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            headers = case.headers if case.headers is not None else {}
            if "Idempotency-Key" in headers:  # a new one per call: no 409 cascade
                headers["Idempotency-Key"] = uuid.uuid4().hex
            headers["Authorization"] = f"Bearer {self.key}"  # not a generated credential
            case.headers = headers
            return {}

        def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
            calls.append((case.operation.label, response.status_code))
            case.validate_response(response, checks=[not_a_server_error])

    return Workflow


def run(scenarios: int, steps: int) -> list[tuple[str, int]]:
    """Run ``scenarios`` sequences of at most ``steps`` calls; answers every call made, in
    order, as (operation, status). Raises when an answer is a server error."""
    directory = Path(tempfile.mkdtemp(prefix="seatledger-stateful-"))
    url = f"sqlite+aiosqlite:///{directory / 'api.sqlite3'}"
    calls: list[tuple[str, int]] = []
    made = Ids()
    clock = FixedClock()
    try:
        migrations.upgrade(url)
        runtime = Runtime(
            engine=create_engine(url, poolclass=NullPool),
            clock=clock,
            settings=Settings(database_url=url, sandbox=True, claim_rate_per_minute=0),
            gateway=LocalGateway(),
        )
        with mock.patch.object(ids, "time", made), mock.patch.object(ids, "secrets", made):
            _workflow(runtime, clock, made, calls).run(
                settings=settings(
                    max_examples=scenarios,
                    stateful_step_count=steps,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                    derandomize=True,  # the same sequences on every run
                )
            )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return calls


def statuses(calls: list[tuple[str, int]]) -> Counter[int]:
    return Counter(status for _, status in calls)
