"""Run every benchmark and write ``benchmarks/results.json`` (name → {value, unit}; a benchmark
that could not run here has a null value and says why in ``skipped``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks import billing, delivery, http_api, pricing

RESULTS = Path(__file__).with_name("results.json")


def main() -> None:
    results: dict[str, dict[str, Any]] = {}
    for suite in (pricing, billing, http_api, delivery):
        results.update(suite.collect())
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for name, result in sorted(results.items()):
        if result["value"] is None:
            print(f"{name:36} {'skipped':>14} ({result.get('skipped', '')})", file=sys.stdout)
        else:
            print(f"{name:36} {result['value']:>14,} {result['unit']}", file=sys.stdout)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
