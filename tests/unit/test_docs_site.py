"""The documentation site builds with ``mkdocs build --strict`` (no broken link, no missing
page, no warning), offline: the build runs with every internet socket refused, and the pages it
writes load nothing from another host (no web fonts, no CDN). The generated pages cover every
route and every event type of the application."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from seatledger.domain.events import EventType

ROOT = Path(__file__).parents[2]

# mkdocs' own command, in a Python whose sockets refuse any internet address: a theme or plugin
# that fetched fonts or scripts at build time would fail the build.
OFFLINE_MKDOCS = """
import socket, sys

def _refuse(*args, **kwargs):
    raise OSError(f"the documentation build reached for the network: {args[1:]}")

_connect = socket.socket.connect

def _connect_locally(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(self, address)
    return _connect(self, address)

socket.socket.connect = _connect_locally
socket.getaddrinfo = _refuse
from mkdocs.__main__ import cli
sys.exit(cli())
"""


def _build(site: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEATLEDGER_")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    command = [sys.executable, "-c", OFFLINE_MKDOCS, "build", "--strict", "--site-dir", str(site)]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_site_builds_strictly_offline_and_covers_the_api(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = _build(site)
    assert built.returncode == 0, built.stderr
    assert "WARNING" not in built.stderr, built.stderr

    pages = {path: path.read_text() for path in site.rglob("*.html")}
    for path, html in pages.items():
        assert "fonts.googleapis.com" not in html, path
        assert "fonts.gstatic.com" not in html, path
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?://[^"]+)"', html)
        assert remote == [], (path, remote)

    api = pages[site / "reference" / "api" / "index.html"]
    document = json.loads((site / "reference" / "openapi.json").read_text())
    operations = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(operations) > 40
    for operation in operations:
        assert f"<code>{operation}</code>" in api, operation
    webhooks = pages[site / "reference" / "webhooks" / "index.html"]
    for event_type in EventType:
        assert f"<code>{event_type.value}</code>" in webhooks, event_type
    running = pages[site / "operations" / "index.html"]
    assert "seatledger_outbox_oldest_undelivered_age_seconds" in running
    assert "SeatledgerOutboxStuck" in running
    for quickstart in (ROOT / "docs" / "quickstarts").glob("*.md"):
        assert site / "quickstarts" / quickstart.stem / "index.html" in pages, quickstart
