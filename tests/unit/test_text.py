"""Text people read refuses control and invisible formatting characters (domain.text)."""

from __future__ import annotations

import pytest

from seatledger.domain.text import text_problem


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Acme\u202eexe.pdf", "must not contain invisible formatting characters (U+202E)"),
        ("\u2067Acme", "must not contain invisible formatting characters (U+2067)"),
        ("\x1b[31mred", "must not contain control characters (U+001B)"),
        ("a\x00", "must not contain control characters (U+0000)"),
        ("a\tb", "must not contain control characters (U+0009)"),
        ("c1\x85", "must not contain control characters (U+0085)"),
        ("zero\u200bwidth", "must not contain invisible formatting characters (U+200B)"),
        ("\ufeffbom", "must not contain invisible formatting characters (U+FEFF)"),
        ("tag\U000e0041", "must not contain invisible formatting characters (U+E0041)"),
        ("two\nlines", "must be a single line (U+000A)"),
        ("two\r\nlines", "must not contain control characters (U+000D)"),
        ("a\u2028b", "must not contain line separators (U+2028)"),
        ("a\u2029b", "must not contain paragraph separators (U+2029)"),
        ("\ud800", "must not contain unpaired surrogates (U+D800)"),
    ],
)
def test_one_line_text_refuses(value: str, problem: str) -> None:
    assert text_problem(value) == problem


@pytest.mark.parametrize(
    "value",
    ["Acme", "東京\u3000支社", "Équipe 👩\u200d💻", "می\u200cخواهم", "nbsp\u00a0", "\ue000", ""],
)
def test_one_line_text_keeps_every_script_and_emoji(value: str) -> None:
    assert text_problem(value) is None


def test_multi_line_text_takes_line_breaks_and_nothing_else() -> None:
    assert text_problem("one\ntwo\r\nthree\n", multiline=True) is None
    assert text_problem("lone\rreturn", multiline=True) == (
        "must not contain control characters (U+000D)"
    )
    assert text_problem("end\r", multiline=True) == "must not contain control characters (U+000D)"
    assert text_problem("a\tb\n", multiline=True) == "must not contain control characters (U+0009)"
    assert text_problem("a\n\u202e", multiline=True) == (
        "must not contain invisible formatting characters (U+202E)"
    )
