"""One error catalogue: the codes of ``seatledger.domain.errors`` (and the few the HTTP edge makes
itself), the README's error table and ``/openapi.json``'s problem documents name the same codes,
each with one status."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from seatledger.api.problems import CODES, EDGE_STATUS, status_of
from seatledger.domain.errors import InvalidPrice, SeatledgerError, ValidationFailed, catalogue

README = Path(__file__).resolve().parents[2] / "README.md"


def _catalogue_statuses() -> dict[str, set[int | None]]:
    statuses: dict[str, set[int | None]] = {code: {s} for code, s in EDGE_STATUS.items()}
    for code, kinds in catalogue().items():
        statuses.setdefault(code, set()).update(status_of(kind) for kind in kinds)
    return statuses


def _readme_statuses() -> dict[str, int]:
    """The ``| status | codes |`` table: each row's status and the codes in backticks."""
    text = README.read_text()
    table = text[text.index("| status | codes |") :].split("\n\n", 1)[0]
    found: dict[str, int] = {}
    for row in table.splitlines()[2:]:
        status, codes = row.strip("|").split("|", 1)
        for code in re.findall(r"`([a-z_]+)`", codes.split("(", 1)[0]):
            assert code not in found, f"{code} is listed twice"
            found[code] = int(status)
    return found


def test_one_class_per_code_and_one_status_per_code() -> None:
    for code, kinds in catalogue().items():
        assert all(issubclass(kind, SeatledgerError) for kind in kinds)
        if code == "validation_error":  # pricing's own, which cannot import the domain
            assert set(kinds) == {ValidationFailed, InvalidPrice}
        else:
            assert len(kinds) == 1, f"{code}: {kinds}"
    for code, statuses in _catalogue_statuses().items():
        assert len(statuses) == 1, f"{code}: {statuses}"
        assert None not in statuses, f"{code} has no HTTP status"
    assert not set(catalogue()) & set(EDGE_STATUS)


def test_the_readme_table_is_the_catalogue() -> None:
    expected = {code: statuses.pop() for code, statuses in _catalogue_statuses().items()}
    assert _readme_statuses() == expected


async def test_openapi_documents_every_code_and_only_those(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    code = schema["components"]["schemas"]["Problem"]["properties"]["code"]
    assert set(code["enum"]) == set(_catalogue_statuses()) == set(CODES)
    assert sorted(code["enum"]) == code["enum"]
