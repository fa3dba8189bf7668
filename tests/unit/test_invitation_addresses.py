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


def test_every_entry_that_is_not_an_address_is_named_by_its_position() -> None:
    typed = "ann@acme.test, ann\na@b@c ben@acme.test " + "y" * 80
    with pytest.raises(ValidationFailed) as refused:
        parse_addresses(typed)
    assert refused.value.errors == (
        ("emails[1]", "'ann' is not an email address"),
        ("emails[2]", "'a@b@c' is not an email address"),
        ("emails[4]", "'" + "y" * 57 + "...' is not an email address"),
    )
    assert refused.value.detail.startswith("'ann' is not an email address; 'a@b@c'")
