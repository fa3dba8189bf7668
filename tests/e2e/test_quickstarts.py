"""The documentation's quickstarts (docs/quickstarts/*.md) run as written against a real
``seatledger serve`` on a fresh SQLite database, with the sandbox on, and print exactly the
outputs the pages show: every amount a quickstart states is one the server answered.

The pages run in order against one server, as a reader running them one after another against
``make run`` would; none depends on another's objects. They need ``curl`` and ``jq`` (as the
README's walkthrough does)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import quickstarts
from tests.integration.processes import Server, clean_environment, migrate, run, serving

PAGES = sorted((quickstarts.DOCS / "quickstarts").glob("*.md"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("quickstarts")
    env = clean_environment(DATABASE_URL=f"sqlite:///{folder}/docs.sqlite3", SANDBOX="1")
    migrate(env)
    created = run(env, "keys", "create", "--name", "quickstarts", cwd=folder)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    with serving(env, folder) as server:
        yield server, key


def test_there_are_four_quickstarts_each_with_outputs() -> None:
    assert len(PAGES) == 4
    for page in PAGES:
        shown = [block for block in quickstarts.blocks(page) if block.expected is not None]
        assert len(shown) >= 3, f"{page.name} shows too few outputs"


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_a_quickstart_prints_what_its_page_shows(served: tuple[Server, str], page: Path) -> None:
    server, key = served
    ran = quickstarts.run(page, server.base, key)
    assert len(ran) == len(quickstarts.blocks(page))
    for number, (block, printed) in enumerate(ran, start=1):
        assert printed == (block.expected or ""), f"{page.name}, block {number}:\n{block.code}"
