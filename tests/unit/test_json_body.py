"""Request bodies are read as strict JSON; integers too long to convert stand out."""

from __future__ import annotations

import json

import pytest

from seatledger.api.json_body import OVERSIZED, parse_json


def test_plain_json_reads_as_usual() -> None:
    text = '{"n": -12, "big": 100000000000000000000000000000, "f": 1.5, "e": 1e400, "ok": true}'
    assert parse_json(text) == json.loads(text)


def test_integers_too_long_to_convert_read_as_oversized() -> None:
    assert parse_json(b'{"seats": ' + b"9" * 5000 + b"}") == {"seats": OVERSIZED}
    assert parse_json("[-" + "1" * 10_000 + "]") == [-OVERSIZED]
    assert OVERSIZED > 2**63
    assert str(OVERSIZED)  # printable, unlike what it stands for


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_not_json(constant: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        parse_json(f'{{"x": [1, {constant}]}}')
