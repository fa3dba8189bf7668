"""Free-form JSON is bounded in depth and size, and plain (domain.json_value)."""

from __future__ import annotations

from typing import Any

import pytest

from seatledger.domain.errors import ValidationFailed
from seatledger.domain.json_value import (
    MAX_BYTES,
    MAX_DEPTH,
    check_json,
    json_depth,
    json_problem,
)


def nested(levels: int, container: str = "object") -> Any:
    value: Any = {} if container == "object" else []
    for _ in range(levels - 1):
        value = {"a": value} if container == "object" else [value]
    return value


def test_depth_counts_objects_and_arrays_without_recursion() -> None:
    assert (json_depth(5), json_depth({}), json_depth([[], {"a": [1]}])) == (0, 1, 3)
    assert json_depth(nested(100_000, "array")) == 100_000


@pytest.mark.parametrize("container", ["object", "array"])
def test_at_most_32_levels(container: str) -> None:
    assert MAX_DEPTH == 32
    assert json_problem(nested(MAX_DEPTH, container)) is None
    for levels in (MAX_DEPTH + 1, 900, 100_000):
        assert json_problem(nested(levels, container)) == (
            (),
            "must not nest objects and arrays deeper than 32 levels",
        )


def test_at_most_16_kib_as_compact_json() -> None:
    assert MAX_BYTES == 16 * 1024
    fits = {"k": "x" * (MAX_BYTES - len('{"k":""}'))}
    assert json_problem(fits) is None
    assert json_problem({"k": "x" * (MAX_BYTES - 7)}) == ((), "must be at most 16 KiB as JSON")
    assert json_problem({"k": "é" * (MAX_BYTES // 2)}) == ((), "must be at most 16 KiB as JSON")


@pytest.mark.parametrize(
    ("value", "where", "problem"),
    [
        ({"a": [1, {"b": float("nan")}]}, ("a", 1, "b"), "must be a finite number"),
        ({"a": float("inf")}, ("a",), "must be a finite number"),
        ({"n": 2**53 + 1}, ("n",), "must be an integer between -2^53 and 2^53"),
        ({"n": -(10**4000)}, ("n",), "must be an integer between -2^53 and 2^53"),
        ({"s": "a\x00b"}, ("s",), "must not contain NUL characters"),
        ({"s": ["\ud800"]}, ("s", 0), "must not contain unpaired surrogates"),
        ({"a": {"k\x00": 1}}, ("a",), "keys must not contain NUL characters"),
        ({"a": {1: 1}}, ("a",), "keys must be strings"),
        (
            {"when": object()},
            ("when",),
            "must be a JSON value (object, array, string, number, boolean or null)",
        ),
    ],
)
def test_plain_json_only_named_where_it_breaks(
    value: Any, where: tuple[str | int, ...], problem: str
) -> None:
    assert json_problem(value) == (where, problem)


def test_plain_json_within_bounds_passes() -> None:
    value = {"roles": ["admin", {"scope": None, "n": 2**53, "r": -1.5, "ok": True}], "é": "✓"}
    assert json_problem(value) is None
    check_json(value, "properties")


def test_check_json_names_the_field_below_the_value() -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_json({"roles": [{"n": 2**60}]}, "properties")
    assert caught.value.errors == (
        ("properties.roles[0].n", "must be an integer between -2^53 and 2^53"),
    )
    with pytest.raises(ValidationFailed) as caught:
        check_json(nested(40), "metadata")
    assert [field for field, _ in caught.value.errors] == ["metadata"]
