"""1,000 due subscriptions; the worker killed at random moments and random crash points, run
again, until a run is not killed and a last one finds nothing due: every subscription renewed,
invoiced, charged and announced exactly once (``tests.integration.renewal_crashes``).

Under ``make soak`` only; ``SEATLEDGER_SOAK_RENEWALS`` sets the number of subscriptions.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration import renewal_crashes as crashes

SUBSCRIPTIONS = int(os.environ.get("SEATLEDGER_SOAK_RENEWALS", "1000"))
MOST_RUNS = 200


async def test_a_renewal_run_killed_until_done_renews_each_subscription_once(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await crashes.seed(engine, SUBSCRIPTIONS)
    log = tmp_path / "worker.log"
    chance = random.Random()
    seed = chance.randrange(1 << 32)
    chance.seed(seed)
    tally = crashes.Tally()
    while await crashes.kill_once(
        engine, database_url, log, crashes.random_way(chance, SUBSCRIPTIONS), tally
    ):
        assert tally.runs < MOST_RUNS, log.read_text()
    crashes.finish(database_url, log, tally)

    billed = await crashes.check(engine, SUBSCRIPTIONS)
    print(f"{crashes.report(billed, tally)} (seed {seed})")
    assert (billed.duplicates, billed.lost) == (0, 0), log.read_text()
    assert (billed.invoices, billed.payments) == (SUBSCRIPTIONS, SUBSCRIPTIONS)
    await crashes.check_money(engine)
