"""A renewal run killed at each step of a renewal, then run again: every subscription is
renewed, invoiced, charged and announced exactly once (``tests.integration.renewal_crashes``).

Bounded for CI: ``SUBSCRIPTIONS`` subscriptions and one kill of each kind, in the order a run
reaches them. ``make soak`` runs 1,000 killed at random until done
(``tests/soak/test_renewal_crashes.py``).
"""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration import renewal_crashes as crashes

SUBSCRIPTIONS = 200
# In the order a run reaches them, so that each one finds its point: start-up, then a batch
# rolled back, a batch committed with nothing charged, charges taken and not recorded,
# outcomes written and not committed.
DEATHS = ("random delay", "renewal_invoiced", "renewal_committed", "charged", "payments_recorded")


async def test_a_renewal_run_killed_at_each_step_renews_each_subscription_once(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await crashes.seed(engine, SUBSCRIPTIONS)
    log = tmp_path / "worker.log"
    chance = random.Random(20270201)
    tally = crashes.Tally()
    for name in DEATHS:
        if name == "random delay":
            death: tuple[str, str | None, float] = (name, None, chance.uniform(0.3, 1.0))
        else:
            death = crashes.way(name, chance, SUBSCRIPTIONS)
        died = await crashes.kill_once(engine, database_url, log, death, tally)
        assert died or name == "random delay", f"{name} was never reached:\n{log.read_text()}"
    crashes.finish(database_url, log, tally)

    billed = await crashes.check(engine, SUBSCRIPTIONS)
    print(crashes.report(billed, tally))
    assert (billed.duplicates, billed.lost) == (0, 0), log.read_text()
    assert (billed.invoices, billed.payments) == (SUBSCRIPTIONS, SUBSCRIPTIONS)
    await crashes.check_money(engine)
