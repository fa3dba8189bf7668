"""``deploy/alerts.yml`` is valid Prometheus and its alerts fire on synthetic series
(``deploy/alerts_test.yml``), checked by Prometheus' own ``promtool`` (Debian's ``prometheus``
package); every series a rule names is one the engine exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from seatledger.observability import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
# Read from the database at each scrape (seatledger.api.metrics), not in the metrics module.
SCRAPED = {
    "seatledger_backlog_up",
    "seatledger_outbox_undelivered",
    "seatledger_outbox_oldest_undelivered_age_seconds",
    "seatledger_webhook_endpoints_failing",
    "seatledger_webhook_endpoint_failing_seconds",
}


def promtool(*args: str) -> str:
    done = subprocess.run(
        [PROMTOOL, *args], cwd=DEPLOY, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_rules_are_valid() -> None:
    assert "SUCCESS" in promtool("check", "rules", "alerts.yml")


def test_the_alerts_fire_on_synthetic_series() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_the_rules_name_only_exported_series() -> None:
    exported = set(SCRAPED)
    for family in metrics.REGISTRY.collect():
        exported.update(sample.name for sample in family.samples)
        exported.add(family.name)
        if family.type == "counter":
            exported.add(f"{family.name}_total")
    named = set(re.findall(r"\b(seatledger_[a-z_]+)", (DEPLOY / "alerts.yml").read_text()))
    assert named
    assert named <= exported, named - exported
