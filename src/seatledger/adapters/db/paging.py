"""Cursor pages in SQL: ids are time-ordered, so ``id > cursor ORDER BY id`` pages stably (and
``id < cursor ORDER BY id DESC``, newest first). The rule of which lists run which way, and the
bounds of a page's size, are the services' (``seatledger.services.pages``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select

# What a repository's list takes: its query and its id column → the page's query.
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]


def paginate(
    query: Select[Any],
    id_column: ColumnElement[str],
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool = False,
) -> Select[Any]:
    """``query`` restricted to the page after ``cursor``; one extra row tells ``has_more``."""
    if newest_first:
        if cursor:
            query = query.where(id_column < cursor)
        return query.order_by(id_column.desc()).limit(limit + 1)
    if cursor:
        query = query.where(id_column > cursor)
    return query.order_by(id_column).limit(limit + 1)


def paginating(cursor: str | None, limit: int, *, newest_first: bool = False) -> Paging:
    """The page after ``cursor`` of ``limit`` rows, for a repository's list."""

    def page(query: Select[Any], id_column: ColumnElement[str]) -> Select[Any]:
        return paginate(query, id_column, cursor, limit, newest_first=newest_first)

    return page


__all__ = ["Paging", "paginate", "paginating"]
