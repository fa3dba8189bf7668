"""Schemathesis in stateful mode over every route: sequences of calls where each answer's ids
feed the next call (links schemathesis infers from ``/openapi.json``: a company's ``id`` into
``{company_id}``, …), and none is a server error.

Under ``make soak`` only (see tests/conftest.py). On SQLite, with a merchant API key, bounded
(``SCENARIOS`` sequences of at most ``STEPS`` calls). The app and its database are made as in
``tests/e2e/test_schemathesis.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

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
from seatledger.domain.clock import FixedClock
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime

SCENARIOS = 40
STEPS = 12


def test_no_sequence_of_calls_is_a_server_error() -> None:
    directory = Path(tempfile.mkdtemp(prefix="seatledger-stateful-"))
    url = f"sqlite+aiosqlite:///{directory / 'api.sqlite3'}"
    try:
        migrations.upgrade(url)
        runtime = Runtime(
            engine=create_engine(url, poolclass=NullPool),
            clock=FixedClock(),
            settings=Settings(database_url=url, sandbox=True),
            gateway=LocalGateway(),
        )
        _, key = asyncio.run(api_keys.create_api_key(runtime, name="stateful"))
        schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(runtime))
        machine = schema.as_state_machine()

        class Workflow(machine):  # type: ignore[valid-type,misc]
            def get_call_kwargs(self, case: Case) -> dict[str, Any]:
                headers = case.headers if case.headers is not None else {}
                if "Idempotency-Key" in headers:  # a new one per call: no 409 cascade
                    headers["Idempotency-Key"] = uuid.uuid4().hex
                headers["Authorization"] = f"Bearer {key}"  # not a generated credential
                case.headers = headers
                return {}

            def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
                case.validate_response(response, checks=[not_a_server_error])

        Workflow.run(
            settings=settings(
                max_examples=SCENARIOS,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
                # The same sequences on every run: schemathesis draws each step from the answers
                # before it, and a failure found at random could not always be replayed to be
                # shrunk (hypothesis' FlakyStrategyDefinition), which hid what failed.
                derandomize=True,
            )
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
