"""The one rule for a list of email addresses (``seatledger.domain.email_list``): pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatledger.domain.email_list import read_email_list
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.holders import wanted_holders
from seatledger.services.invitations import parse_addresses


def test_addresses_are_normalised_each_once_at_their_first_position() -> None:
    read = read_email_list(
        ["B@x.test", "a@x.test", "b@X.test", "A@x.test", "c@x.test"], field="emails", most=10
    )
    assert read.addresses == ("b@x.test", "a@x.test", "c@x.test")
    assert read.positions == (0, 1, 4)
    assert read.duplicates == ("b@x.test", "a@x.test")


def test_every_bad_entry_is_named_by_its_position_and_quoted_back() -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_email_list(["ok@x.test", "nope", 7, None, "z" * 70], field="people", most=10)
    assert refused.value.errors == (
        ("people[1]", "'nope' is not an email address"),
        ("people[2]", "7 is not an email address"),
        ("people[3]", "None is not an email address"),
        ("people[4]", "'" + "z" * 57 + "...' is not an email address"),
    )
    assert refused.value.detail == "; ".join(message for _, message in refused.value.errors)


def test_the_bounds_name_the_list_itself() -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_email_list(["a@x.test"] * 4, field="emails", most=3)
    assert refused.value.errors == (("emails", "give at most 3 addresses at once"),)
    with pytest.raises(ValidationFailed) as refused:
        read_email_list([], field="emails", most=3, least=1)
    assert refused.value.errors == (("emails", "give at least one email address"),)
    assert read_email_list([], field="emails", most=3).addresses == ()


def test_holders_and_invitations_read_a_list_alike() -> None:
    """The JSON list of the holders and the typed text of an invitation say the same."""
    typed = ["Ann@Acme.test", "ann", "bob@acme.test"]
    with pytest.raises(ValidationFailed) as as_holders:
        wanted_holders(typed)
    with pytest.raises(ValidationFailed) as as_invitation:
        parse_addresses(" ".join(typed))
    assert (
        as_holders.value.errors
        == as_invitation.value.errors
        == (("emails[1]", "'ann' is not an email address"),)
    )
    assert as_holders.value.detail == as_invitation.value.detail


@given(
    st.lists(
        st.sampled_from(["a@x.test", "A@x.test", "b@x.test", "c@X.test", "C@x.test"]),
        max_size=12,
    )
)
def test_each_normalised_address_appears_once_in_first_given_order(given_: list[str]) -> None:
    read = read_email_list(given_, field="emails", most=12)
    lowered = [entry.lower() for entry in given_]
    assert list(read.addresses) == list(dict.fromkeys(lowered))
    assert [lowered[p] for p in read.positions] == list(read.addresses)
    assert set(read.duplicates) == {e for e in lowered if lowered.count(e) > 1}
