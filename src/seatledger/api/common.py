"""What every router shares: the base schema, field types, ids, pages and the runtime.

Schemas forbid unknown fields (a typo is a 422, never silently ignored) and take JSON types
strictly (``"5"`` is not a number, ``1`` is not a boolean). Strings are refused when they hold
a NUL character or an unpaired surrogate: neither database stores them, and refusing them here
keeps every such input a 422 rather than a failure deep down. Text people read (``Name``,
``Description``) is refused when it holds control or invisible formatting characters
(``seatledger.domain.text``); only a description may span lines. Free-form JSON (``JsonObject``)
is bounded in depth and size (``seatledger.domain.json_value``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Header, Query, Request
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from seatledger.domain.clock import format_timestamp
from seatledger.domain.errors import ValidationFailed
from seatledger.domain.ids import ID_PATTERN, check_id
from seatledger.domain.json_value import json_problem
from seatledger.domain.text import text_problem
from seatledger.pricing import MAX_SEATS
from seatledger.services.pages import DEFAULT_LIMIT, MAX_LIMIT, Page
from seatledger.services.runtime import Runtime

T = TypeVar("T")

# Ids are opaque to clients, but this engine makes them one way (``seatledger.domain.ids``):
# anything else cannot name an object, and answers 404 without a query.
_ID = ID_PATTERN


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


def _one_line(value: str) -> str:
    if (problem := text_problem(value)) is not None:
        raise PydanticCustomError("text", problem)
    return value


def _lines(value: str) -> str:
    if (problem := text_problem(value, multiline=True)) is not None:
        raise PydanticCustomError("text", problem)
    return value


def _free_json(value: dict[str, Any]) -> dict[str, Any]:
    """Free-form JSON within the engine's bounds (``seatledger.domain.json_value``); a problem
    deep inside is named where it is (``metadata.roles[0]``)."""
    found = json_problem(value)
    if found is not None:
        where, problem = found
        error = InitErrorDetails(
            type=PydanticCustomError("json_value", problem), loc=where, input=None
        )
        raise ValidationError.from_exception_data("json_value", [error])
    return value


def _seat_count(value: int) -> int:
    if not 1 <= value <= MAX_SEATS:
        raise PydanticCustomError(
            "seats_out_of_range", "must be between 1 and {maximum}", {"maximum": MAX_SEATS}
        )
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise PydanticCustomError("timezone", "must carry a time zone (UTC: ...Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first representable time
        raise PydanticCustomError("timestamp", "is out of range") from None


def _clean_optional(value: str | None) -> str | None:
    return None if value is None else _clean(value)


Text = Annotated[StrictStr, AfterValidator(_clean)]
# Text people read: a name on one line; a description, which may span lines.
Name = Annotated[StrictStr, AfterValidator(_one_line)]
Description = Annotated[StrictStr, AfterValidator(_lines)]
# Free text in a query string (a list's filter), refused like ``Text`` when unclean.
QueryText = Annotated[str | None, AfterValidator(_clean_optional)]
JsonObject = Annotated[dict[str, Any], AfterValidator(_free_json)]
# A seat count: what the engine stores is bounded (``pricing.MAX_SEATS``); beyond it, or below
# one, is ``seats_out_of_range`` like any other count a price refuses.
Seats = Annotated[
    StrictInt,
    AfterValidator(_seat_count),
    Field(json_schema_extra={"minimum": 1, "maximum": MAX_SEATS}),
]
# Every time the API reads or answers: ISO 8601 in UTC, one format everywhere (SPEC §6). Read
# with any offset (a time zone is required) and answered as ``format_timestamp`` writes it.
Timestamp = Annotated[
    datetime,
    AfterValidator(_utc),
    PlainSerializer(format_timestamp, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2031-01-16T12:00:00Z"]}),
]


class AttachIn(ApiModel):
    """An owner-scoped purchase joins this company."""

    company_id: Text


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


# Dependencies are ``async def``: FastAPI runs a plain ``def`` in a thread pool, on every request.
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def idempotency_key_header(
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
