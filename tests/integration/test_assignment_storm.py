"""The assignment storm, bounded for ``make test`` (PostgreSQL only: collected when
``SEATLEDGER_TEST_DATABASE_URL`` is set; SQLite serialises its writers). The full storm,
10,000 attempts from 4 processes, runs under ``make soak`` (tests/soak)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatledger.adapters.db import migrations
from seatledger.services.runtime import Runtime
from tests.conftest import POSTGRES_URL
from tests.integration.storm import Storm, run_storm

BOUNDED = Storm(pools=20, seats=3, attempts=1_000, processes=2, connections=25)


@pytest.fixture(scope="module")
def database_url() -> str:
    migrations.upgrade(POSTGRES_URL)
    return POSTGRES_URL


async def test_a_thousand_attempts_from_two_processes_never_oversell(
    runtime: Runtime, tmp_path: Path
) -> None:
    outcome = await run_storm(runtime, tmp_path, BOUNDED)
    assert outcome.counts["201"] == BOUNDED.pools * BOUNDED.seats
    print(outcome.summary(BOUNDED))
