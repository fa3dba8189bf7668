"""A claim in two statements (PostgreSQL): one reads what the claim needs, one writes it all.

    1. SELECT the pending seat behind a live token, its pool's product, the company's live
       member of the seat's address, and the product's benefits (with the files they name)
    2. WITH claimed AS (UPDATE seats SET status = 'claimed' … WHERE id = :seat
                          AND token_hash = :hash AND status = 'pending'
                          AND token_expires_at > :now RETURNING id),
            member  AS (INSERT INTO members … FROM claimed),           -- when it has none
            grants  AS (INSERT INTO benefit_grants … FROM claimed),
            session AS (INSERT INTO customer_sessions … FROM claimed),  -- when asked for
            events  AS (INSERT INTO outbox … FROM claimed)
       SELECT id FROM claimed

Between the two, the use case does in Python what the statements of the step-by-step claim
would have done (``Seat.claim``, the grants' properties, the session's token) and renders the
events. The second statement checks the token again under the seat's row lock (a racing claim
or revocation that got there first leaves no pending seat: no row, nothing written), and every
insert hangs on ``claimed``. A member of that address made by someone else between the two
breaks ``uq_members_company_email``: the statement fails whole and ``claim`` answers None, as
for a refusal; the caller then claims step by step, which names the refusal or finds that
member. SQLite claims step by step always (``Seats.take_token``, ``Seats.mark_claimed``, …).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.seats import SEAT_COLUMNS, product_of_owner, seat_from_row
from seatledger.adapters.db.written_rows import inserted_from, parameters_of
from seatledger.domain.grant import GrantableBenefit
from seatledger.domain.seat import Seat

_seats = t.seats
MEMBER_COLUMNS = ("id", "company_id", "email", "role", "created_at")
GRANT_COLUMNS = (
    "id",
    "seat_id",
    "member_id",
    "benefit_id",
    "status",
    "license_key",
    "properties",
    "granted_at",
    "revoked_at",
)
SESSION_COLUMNS = ("id", "member_id", "token_hash", "expires_at", "created_at")
EVENT_COLUMNS = ("event_id", "type", "payload", "created_at")
# Parameters are named apart from every column (``c_…``): an UPDATE executed with a parameter
# named like one of its table's columns would also SET that column from it.


@dataclass(frozen=True, slots=True)
class ClaimPlan:
    """What a claim needs, read in one statement: the pending seat, its product, the company's
    live member of its address (None: there is none) and the product's benefits in order."""

    seat: Seat
    product_id: str
    live_member_id: str | None
    benefits: tuple[GrantableBenefit, ...]


@dataclass(frozen=True, slots=True)
class ClaimRows:
    """The rows a claim writes with its seat (each a column → value mapping)."""

    member: Mapping[str, Any] | None
    grants: Sequence[Mapping[str, Any]]
    session: Mapping[str, Any] | None
    events: Sequence[Mapping[str, Any]]


@lru_cache(maxsize=1)
def _plan_statement() -> Select[Any]:
    members = t.members
    live_member = (
        select(members.c.id)
        .where(
            members.c.company_id == _seats.c.company_id,
            members.c.email == _seats.c.email,
            members.c.removed_at.is_(None),
        )
        .scalar_subquery()
        .label("live_member_id")
    )
    found = (
        select(*SEAT_COLUMNS, product_of_owner(), live_member)
        .where(
            _seats.c.token_hash == bindparam("c_token_hash"),
            _seats.c.status == "pending",
            _seats.c.token_expires_at > bindparam("c_now", type_=_seats.c.token_expires_at.type),
        )
        .cte("found")
    )
    links, benefits, files = t.product_benefits, t.benefits, t.files
    return (
        select(
            found,
            benefits.c.id.label("benefit_id"),
            benefits.c.type.label("benefit_type"),
            benefits.c.properties.label("benefit_properties"),
            files.c.name.label("file_name"),
            files.c.content_type.label("file_content_type"),
            files.c.size.label("file_size"),
        )
        .select_from(
            found.outerjoin(links, links.c.product_id == found.c.product_id)
            .outerjoin(benefits, benefits.c.id == links.c.benefit_id)
            .outerjoin(files, files.c.id == benefits.c.properties["file_id"].as_string())
        )
        .order_by(links.c.position)
    )


@lru_cache(maxsize=64)
def _claim_statement(member: bool, grants: int, session: bool, events: int) -> Select[Any]:
    """The claim's write of one shape (module docstring), built once with bind parameters."""
    claimed = (
        update(_seats)
        .where(
            _seats.c.id == bindparam("c_seat"),
            _seats.c.token_hash == bindparam("c_token_hash"),
            _seats.c.status == "pending",
            _seats.c.token_expires_at > bindparam("c_now", type_=_seats.c.token_expires_at.type),
        )
        .values(
            status="claimed",
            claimed_at=bindparam("c_now", type_=_seats.c.claimed_at.type),
            member_id=bindparam("c_member"),
            token_hash=None,
            token_expires_at=None,
        )
        .returning(_seats.c.id)
        .cte("claimed")
    )
    statement = select(claimed.c.id)
    writes = [
        (member, "member", t.members, MEMBER_COLUMNS, 1),
        (grants > 0, "grants", t.benefit_grants, GRANT_COLUMNS, grants),
        (session, "session", t.customer_sessions, SESSION_COLUMNS, 1),
        (events > 0, "events", t.outbox, EVENT_COLUMNS, events),
    ]
    for wanted, name, table, columns, count in writes:
        if wanted:
            written = inserted_from(table, columns, f"{name[0]}", count, claimed)
            statement = statement.add_cte(written.cte(name))
    return statement


def _benefit(row: Any) -> GrantableBenefit:
    return GrantableBenefit(
        id=row.benefit_id,
        type=row.benefit_type,
        properties=dict(row.benefit_properties),
        file_name=row.file_name,
        file_content_type=row.file_content_type,
        file_size=row.file_size,
    )


class Claims:
    """Claims in two statements, on one unit of work's connection (PostgreSQL)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def plan(self, token_hash: str, now: datetime) -> ClaimPlan | None:
        """Read-only: what claiming this token needs; None for a used, expired, revoked or
        unknown token (nothing is spent: the write checks it all again)."""
        result = await self._connection.execute(
            _plan_statement(), {"c_token_hash": token_hash, "c_now": now}
        )
        rows = result.all()
        if not rows:
            return None
        first = rows[0]
        return ClaimPlan(
            seat=seat_from_row(first),
            product_id=first.product_id,
            live_member_id=first.live_member_id,
            benefits=tuple(_benefit(row) for row in rows if row.benefit_id is not None),
        )

    async def claim(self, seat: Seat, token_hash: str, now: datetime, rows: ClaimRows) -> bool:
        """Write the claim of ``seat`` (``Seat.claim``'s outcome) with its rows, in one
        statement; False when it was refused (nothing written: module docstring)."""
        statement = _claim_statement(
            rows.member is not None, len(rows.grants), rows.session is not None, len(rows.events)
        )
        parameters: dict[str, Any] = {
            "c_seat": seat.id,
            "c_token_hash": token_hash,
            "c_now": now,
            "c_member": seat.member_id,
        }
        parameters.update(parameters_of("m", [rows.member] if rows.member else []))
        parameters.update(parameters_of("g", rows.grants))
        parameters.update(parameters_of("s", [rows.session] if rows.session else []))
        parameters.update(parameters_of("e", rows.events))
        try:
            found = (await self._connection.execute(statement, parameters)).first()
        except IntegrityError:
            return False  # a member of that address appeared meanwhile (module docstring)
        return found is not None


__all__ = ["ClaimPlan", "ClaimRows", "Claims"]
