"""Cursor pagination: ids are time-ordered, so ``id > cursor ORDER BY id`` pages stably (and
``id < cursor ORDER BY id DESC``, newest first: ``seatledger.adapters.db.paging``).

Lists of one parent's objects (a company's subscriptions, a pool's seats) and of the catalog run
oldest first; lists across the whole instance of what keeps coming (companies, checkouts, all
subscriptions, orders or invoices) run newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

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


def page_of(items: Sequence[T], ids: Sequence[str], limit: int) -> Page[T]:
    has_more = len(items) > limit
    kept = tuple(items[:limit])
    return Page(kept, has_more, ids[limit - 1] if has_more else None)
