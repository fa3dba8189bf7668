"""A seat assignment as one statement (PostgreSQL): a data-modifying CTE that takes the pool's
seat, inserts the seat and writes its events to the outbox.

    WITH taken  AS (UPDATE seat_pools … WHERE <SeatPool.take's rule> RETURNING <the pool>),
         seat   AS (INSERT INTO seats SELECT … FROM taken RETURNING *),
         events AS (INSERT INTO outbox SELECT … FROM seat)
    SELECT taken.*, seat.* FROM taken JOIN seat ON true

The pool's rule is ``SeatPools.take``'s statement (``taking``), with one more condition: the
pool's company has no seat alerts (those are assigned step by step, their thresholds evaluated
in the transaction: ``seatledger.services.usage_alerts``). When it refuses, no seat and no
event is written and the statement answers no row. The events were rendered before
the statement, from the seat about to be inserted, whose every field the caller knows except
two the statement finds: the pool's company and the company's live member of that address.
Those are merged into the seat's events' payloads from the inserted row (where the rendered
object has them: the API's seat names its member, not its company).

Snapshots: a statement that waited for the pool's row (a concurrent assignment held it) reads
the other tables from its snapshot taken before the wait, as the single ``UPDATE`` always did
for the owner's status. The member looked up by address is read from that snapshot too: a
member created in that instant is not linked here, and the claim finds it by its address.
Uniqueness (``uq_seats_pool_email``) is checked against every committed row, not the snapshot.

SQLite keeps the statements one by one (``SeatPools.take``, ``Seats.add``, the outbox insert
at commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Select, bindparam, cast, func, insert, select, true, union_all
from sqlalchemy.dialects.postgresql import JSONB

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seat_pools import OWNERS, taking
from seatledger.domain.seat_pool import PoolKind, PoolRef

_seats = t.seats
_outbox = t.outbox
SEAT_PREFIX = "seat_"  # the seat's columns in the answer, apart from the pool's
FOUND = ("company_id", "member_id")  # the seat's fields the statement finds


def _bound(name: str, column: Any) -> Any:
    return bindparam(name, type_=column.type)


def _event(i: int, seat: Any, found: tuple[str, ...]) -> Select[Any]:
    payload: Any = _bound(f"e{i}_payload", _outbox.c.payload)
    if found:  # the seat's fields only the statement knows, those the rendered object carries
        pairs = [part for name in found for part in (name, seat.c[name])]
        payload = cast(cast(payload, JSONB).op("||")(func.jsonb_build_object(*pairs)), JSON)
    return select(
        _bound(f"e{i}_event_id", _outbox.c.event_id).label("event_id"),
        _bound(f"e{i}_type", _outbox.c.type).label("type"),
        payload.label("payload"),
        _bound(f"e{i}_created_at", _outbox.c.created_at).label("created_at"),
    ).select_from(seat)


@lru_cache(maxsize=64)
def _statement(
    kind: PoolKind, scoped: bool, columns: tuple[str, ...], events: tuple[tuple[str, ...], ...]
) -> Select[Any]:
    """The statement of one shape, built once with bind parameters (building a Core statement
    per request costs more CPU than the round trips it saves). ``events``: per outbox row, the
    fields of the seat merged into its payload."""
    owner = OWNERS[kind]
    # A company with seat alerts is assigned step by step, its thresholds evaluated at commit
    # (``seatledger.services.usage_alerts``): here its pool refuses, and the caller falls back.
    alerted = (
        select(t.seat_alerts.c.company_id)
        .where(t.seat_alerts.c.company_id == owner.c.company_id, owner.c.id == t.seat_pools.c.id)
        .exists()
    )
    taken = (
        taking(kind, bindparam("pool_id"), bindparam("scope") if scoped else None)
        .where(~alerted)
        .cte("taken")
    )
    member = (
        select(t.members.c.id)
        .where(
            t.members.c.company_id == taken.c.company_id,
            t.members.c.removed_at.is_(None),
            t.members.c.email == bindparam("email"),
        )
        .scalar_subquery()
    )
    source = select(
        *[_bound(f"v_{name}", _seats.c[name]).label(name) for name in columns],
        taken.c.company_id,
        _bound("pool_id", _seats.c.pool_id).label("pool_id"),
        _bound("email", _seats.c.email).label("email"),
        member.label("member_id"),
    ).select_from(taken)
    seat = (
        insert(_seats)
        .from_select([*columns, "company_id", "pool_id", "email", "member_id"], source)
        .returning(*_seats.c)
        .cte("seat")
    )
    rows = [_event(i, seat, found) for i, found in enumerate(events)]
    written = insert(_outbox).from_select(
        ["event_id", "type", "payload", "created_at"],
        rows[0] if len(rows) == 1 else union_all(*rows),
    )
    return (
        select(*taken.c, *[column.label(SEAT_PREFIX + column.name) for column in seat.c])
        .select_from(taken.join(seat, true()))
        .add_cte(written.cte("events"))
    )


def assignment(
    ref: PoolRef,
    values: dict[str, Any],
    *,
    email: str,
    seat_events: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]] = (),
    scope_company_id: str | None = None,
) -> tuple[Select[Any], dict[str, Any]]:
    """The statement and its parameters: ``values`` are the seat's columns but its company,
    pool, email and member; ``seat_events`` and ``events`` are outbox rows
    (``UnitOfWork.event_row``), the former the seat's own, their payloads completed with its
    company and member."""
    rows = [*seat_events, *events]
    shape = tuple(
        tuple(name for name in FOUND if i < len(seat_events) and name in row["payload"])
        for i, row in enumerate(rows)
    )
    statement = _statement(ref.kind, scope_company_id is not None, tuple(values), shape)
    parameters = {f"v_{name}": value for name, value in values.items()}
    parameters.update(pool_id=ref.id, scope=scope_company_id, email=email)
    for i, row in enumerate(rows):
        parameters.update({f"e{i}_{name}": value for name, value in row.items()})
    return statement, parameters


__all__ = ["SEAT_PREFIX", "assignment"]
