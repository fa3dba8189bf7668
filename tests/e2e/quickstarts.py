"""Running a documentation page's shell blocks as written, and reading what they promise.

A page's ```` ```sh ```` blocks run in order in ONE bash process (variables carry over, as in a
reader's terminal), with its setup lines pointed at a given server and key, the way
`.ci/readme-walkthrough` does it for the README. A ```` ```text ```` block right after a ``sh``
block is that block's expected output: the test compares it with what the block printed, line
for line. Outputs are amounts, counts and statuses, never ids or dates, so they are the same on
every run.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARK = "::seatledger-docs-block::"


@dataclass
class Block:
    code: str
    expected: str | None  # the text block that follows it, when there is one


def blocks(page: Path) -> list[Block]:
    """The page's sh blocks, each with the text block right after it (if any)."""
    found: list[Block] = []
    for match in FENCE.finditer(page.read_text()):
        language, body = match.group(1), match.group(2)
        if language == "sh":
            found.append(Block(body, None))
        elif language == "text" and found and found[-1].expected is None:
            between = page.read_text()[: match.start()].rsplit("```", 1)[-1]
            if not between.strip():  # only the text block immediately after counts
                found[-1].expected = body
    return found


def script(page: Path, base: str, key: str) -> str:
    """The page's blocks as one bash script against ``base`` with ``key``; each block's output
    ends with a marker line."""
    parts = ["set -euo pipefail"]
    for block in blocks(page):
        code = re.sub(r"^KEY=sl_\.\.\..*$", f"KEY={key}", block.code, flags=re.MULTILINE)
        parts += [code.replace("http://127.0.0.1:8000", base), f"echo {MARK}"]
    return "\n".join(parts)


def run(page: Path, base: str, key: str) -> list[tuple[Block, str]]:
    """Each block with what it printed. Raises when the script fails (the output says where)."""
    result = subprocess.run(
        ["bash", "-c", script(page, base, key)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{page.name} failed:\n{result.stdout}\n{result.stderr}"
    outputs = result.stdout.split(MARK + "\n")
    return list(zip(blocks(page), outputs, strict=False))
