"""The full assignment storm (issue 13): 10,000 attempts from 4 client processes × 25
connections through ``seatledger serve --workers 2`` on PostgreSQL, 50 pools × 3 free seats.
Under ``make soak`` with ``SEATLEDGER_TEST_DATABASE_URL`` set; it prints its figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatledger.adapters.db import migrations
from seatledger.services.runtime import Runtime
from tests.conftest import POSTGRES_URL
from tests.integration.storm import Storm, run_storm

FULL = Storm(pools=50, seats=3, attempts=10_000, processes=4, connections=25)


@pytest.fixture(scope="module")
def database_url() -> str:
    migrations.upgrade(POSTGRES_URL)
    return POSTGRES_URL


async def test_ten_thousand_attempts_from_four_processes_never_oversell(
    runtime: Runtime, tmp_path: Path
) -> None:
    outcome = await run_storm(runtime, tmp_path, FULL)
    assert outcome.counts["201"] == FULL.pools * FULL.seats
    print(outcome.summary(FULL))
