"""Cursor pagination: ids are time-ordered, so ``id > cursor ORDER BY id`` pages stably (and
``id < cursor ORDER BY id DESC``, newest first).

Lists of one parent's objects (a company's subscriptions, a pool's seats) and of the catalog run
oldest first; lists across the whole instance of what keeps coming (companies, checkouts, all
subscriptions, orders or invoices) run newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select

from seatledger.domain.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    data: tuple[T, ...]
    has_more: bool
    next_cursor: str | None


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.field("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


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


def page_of(items: Sequence[T], ids: Sequence[str], limit: int) -> Page[T]:
    has_more = len(items) > limit
    kept = tuple(items[:limit])
    return Page(kept, has_more, ids[limit - 1] if has_more else None)
