"""Schemathesis against /openapi.json: whatever it sends, no answer is a server error.

On SQLite, with a merchant API key, a bounded number of examples per operation (the whole run
takes a minute or two), and the `not_a_server_error` check only. The schema is loaded when the
module is imported (schemathesis' lazy loader does not run on this pytest); the database behind
the app is made by the fixture below, before the first request.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
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

EXAMPLES = 25
DIRECTORY = Path(tempfile.mkdtemp(prefix="seatledger-schemathesis-"))
URL = f"sqlite+aiosqlite:///{DIRECTORY / 'api.sqlite3'}"
# Schemathesis drives the app from an event loop of its own: no pooled connection may outlive
# the loop that opened it.
RUNTIME = Runtime(
    engine=create_engine(URL, poolclass=NullPool),
    clock=FixedClock(),
    settings=Settings(database_url=URL, sandbox=True),
    gateway=LocalGateway(),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(RUNTIME))


@pytest.fixture(scope="module")
def api_key() -> Iterator[str]:
    migrations.upgrade(URL)
    _, key = asyncio.run(api_keys.create_api_key(RUNTIME, name="schemathesis"))
    yield key
    shutil.rmtree(DIRECTORY, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_input_is_a_server_error(case: Case, api_key: str) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        # Generated keys repeat across examples with other bodies, and a conflict (409) would
        # stop every later example before its body is read: one key per example instead.
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"}, checks=[not_a_server_error]
    )
