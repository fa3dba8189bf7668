"""Run every benchmark and write ``benchmarks/results.json`` (name → {value, unit})."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from benchmarks import billing, pricing

RESULTS = Path(__file__).with_name("results.json")


def main() -> None:
    results: dict[str, dict[str, float | str]] = {}
    for suite in (pricing, billing):
        results.update(suite.collect())
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    for name, result in sorted(results.items()):
        print(f"{name:32} {result['value']:>14,} {result['unit']}", file=sys.stdout)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
