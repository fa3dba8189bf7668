"""What every router shares: the base schema, field types, ids, pages and the runtime.

Schemas forbid unknown fields (a typo is a 422, never silently ignored) and take JSON types
strictly (``"5"`` is not a number, ``1`` is not a boolean). Strings are refused when they hold
a NUL character or an unpaired surrogate: neither database stores them, and refusing them here
keeps every such input a 422 rather than a failure deep down.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Query, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic_core import PydanticCustomError

from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.pricing import MAX_SEATS
from seatledger.services.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from seatledger.services.runtime import Runtime

T = TypeVar("T")

# Ids are opaque to clients, but this engine makes them one way (``seatledger.domain.ids``):
# anything else cannot name an object, and answers 404 without a query.
_ID = re.compile(r"[a-z]{1,10}_[0-9a-z]{26}")


class ApiModel(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class OutModel(BaseModel):
    """A response body."""

    model_config = ConfigDict(extra="forbid")


def _clean(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("text", "must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise PydanticCustomError("text", "must not contain unpaired surrogates") from None
    return value


def _clean_json(value: Any) -> Any:
    """Every string (keys included) of a free-form JSON value is clean."""
    if isinstance(value, str):
        _clean(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _clean(key)
            _clean_json(item)
    elif isinstance(value, list):
        for item in value:
            _clean_json(item)
    return value


def _seat_count(value: int) -> int:
    if not 1 <= value <= MAX_SEATS:
        raise PydanticCustomError(
            "seats_out_of_range", "must be between 1 and {maximum}", {"maximum": MAX_SEATS}
        )
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("timezone", "must carry a time zone (UTC: ...Z)")
    return value


Text = Annotated[StrictStr, AfterValidator(_clean)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_clean_json)]
# A seat count: what the engine stores is bounded (``pricing.MAX_SEATS``); beyond it, or below
# one, is ``seats_out_of_range`` like any other count a price refuses.
Seats = Annotated[
    StrictInt,
    AfterValidator(_seat_count),
    Field(json_schema_extra={"minimum": 1, "maximum": MAX_SEATS}),
]
Timestamp = Annotated[datetime, AfterValidator(_aware)]


class AttachIn(ApiModel):
    """An owner-scoped purchase joins this company."""

    company_id: Text


def check_id(value: object, noun: str, *, field: str | None = None) -> str:
    """``value`` if it can be an id; else ``NotFound`` (naming ``field`` when it came in a body
    or a query)."""
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise NotFound(noun, field=field)


def optional_id(value: str | None, noun: str, *, field: str) -> str | None:
    return None if value is None else check_id(value, noun, field=field)


# -- lists ----------------------------------------------------------------------------------------


class ListOut(OutModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None


def list_of(page: Page[Any], convert: Any) -> dict[str, Any]:
    return {
        "data": [convert(item) for item in page.data],
        "has_more": page.has_more,
        "next_cursor": page.next_cursor,
    }


Limit = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"Page size: 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    ),
]
CursorParam = Annotated[
    str | None,
    Query(max_length=40, description="The `next_cursor` of the previous page."),
]


def cursor_of(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    if not _ID.fullmatch(cursor):
        raise ValidationFailed.field("cursor", "is not a cursor this API gave")
    return cursor


# -- the runtime ----------------------------------------------------------------------------------


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def idempotency_key_header(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description=(
                "Makes a retry safe: the same key and body within 24 h replays the first answer"
                " (without the tokens it held); another body, or a retry while the first is"
                " running, is 409 `idempotency_conflict`."
            ),
        ),
    ] = None,
) -> None:
    """Documents the header (``seatledger.api.idempotency`` does the work)."""
