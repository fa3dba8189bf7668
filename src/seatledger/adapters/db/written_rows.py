"""Rows a data-modifying CTE inserts, one per set of bind parameters, only when the row it
hangs on was written (``INSERT … SELECT :p0_a, :p0_b FROM <cte> UNION ALL SELECT :p1_a, …``).

A one-statement use case (an assignment, a claim, a revocation) renders its rows in Python
first and writes them in its statement; an empty ``<cte>`` (the statement's condition refused)
inserts none of them. Statements are built once per shape and cached by their callers: the
values travel as bind parameters named ``<prefix><i>_<column>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Insert, Table, bindparam, insert, select, union_all


def bound(name: str, column: Any) -> Any:
    """A bind parameter of ``column``'s type (JSON and times are converted as the column's)."""
    return bindparam(name, type_=column.type)


def inserted_from(
    table: Table, columns: Sequence[str], prefix: str, count: int, source: Any
) -> Insert:
    """``count`` rows of ``table`` (``columns``), each selected from ``source``."""
    rows = [
        select(
            *[bound(f"{prefix}{i}_{name}", table.c[name]).label(name) for name in columns]
        ).select_from(source)
        for i in range(count)
    ]
    return insert(table).from_select(list(columns), rows[0] if count == 1 else union_all(*rows))


def parameters_of(prefix: str, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The bind parameters of ``inserted_from``'s rows."""
    return {
        f"{prefix}{i}_{name}": value for i, row in enumerate(rows) for name, value in row.items()
    }


__all__ = ["bound", "inserted_from", "parameters_of"]
