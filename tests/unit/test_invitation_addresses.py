"""Reading a list of addresses for "invite your team" (``services.invitations``): pure."""

from __future__ import annotations

import pytest

from seatledger.domain.errors import ValidationFailed
from seatledger.services.invitations import MAX_ADDRESSES, parse_addresses


def test_commas_semicolons_spaces_and_lines_separate_addresses() -> None:
    text = " Ann@Acme.test,ben@acme.test;\r\n\tcy@acme.test  dee@acme.test\n\n"
    assert parse_addresses(text) == [
        "ann@acme.test",
        "ben@acme.test",
        "cy@acme.test",
        "dee@acme.test",
    ]


def test_each_address_once_in_the_order_given() -> None:
    assert parse_addresses("b@x.test, A@x.test, a@x.test, B@X.TEST") == ["b@x.test", "a@x.test"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give at least one email address"),
        (" , ;\n", "give at least one email address"),
        ("ann@acme.test, ann", "'ann' is not an email address"),
        ("a@b@c", "'a@b@c' is not an email address"),
        ("y" * 80, "'" + "y" * 57 + "...' is not an email address"),
        (
            ", ".join(f"p{i}@x.test" for i in range(MAX_ADDRESSES + 1)),
            "give at most 100 addresses at once",
        ),
    ],
)
def test_a_bad_list_names_the_field(text: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_addresses(text)
    assert refused.value.errors == (("emails", message),)


@pytest.mark.parametrize("value", [None, 3, ["a@x.test"], b"a@x.test"])
def test_not_text_is_refused(value: object) -> None:
    with pytest.raises(ValidationFailed):
        parse_addresses(value)
