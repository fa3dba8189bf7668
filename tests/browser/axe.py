"""Auditing a page with axe-core in the browser.

axe comes from npm's lock (``node_modules/axe-core``, a development dependency) and is put into
the page by the test, never served by the app. A violation of impact "serious" or "critical"
fails; the others are returned to be looked at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = frozenset({"serious", "critical"})

# Every rule axe runs by default (WCAG 2.0–2.2 A and AA, and its best practices); none is
# turned off. Results are kept to violations: passes and incomplete checks are not needed.
_RUN = "() => axe.run(document, {resultTypes: ['violations']})"


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page as it is now: the callers wait for what htmx swaps in."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    found: list[dict[str, Any]] = page.evaluate(_RUN)["violations"]
    return found


def describe(where: str, found: list[dict[str, Any]]) -> str:
    """Readable lines: the rule, its impact and help, and the elements it found."""
    lines = [f"{where}:"]
    for violation in found:
        lines.append(
            f"  {violation['id']} ({violation['impact']}): {violation['help']}"
            f" — {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node['failureSummary'].splitlines()[-1].strip()}")
    return "\n".join(lines)


def blocking(page: Page, where: str) -> str | None:
    """A description of the page's serious and critical violations, or None."""
    found = [v for v in violations(page) if v["impact"] in BLOCKING]
    return describe(where, found) if found else None


__all__ = ["AXE", "BLOCKING", "blocking", "describe", "violations"]
