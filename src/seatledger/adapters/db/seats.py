"""Seats in the database, as ``Seat`` values (``seatledger.domain.seat``).

A seat row points at its pool with ``pool_id``, the id of the subscription or order that owns
the pool; the seat's answer names which (``subscription_id`` or ``order_id``) from the pool's
``kind``, read in the same statement. The transitions' rules are stated by ``Seat.claim`` and
``Seat.revoke``; the statements here enforce them under concurrency (a pending seat's token
dies in the statement that claims it; of racing revocations one finds the seat live). A live
seat held twice in a pool (same email or member) breaks ``uq_seats_pool_email`` or
``uq_seats_pool_member``, translated here into ``already_assigned``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import revocation
from seatledger.adapters.db import tables as t
from seatledger.adapters.db.assignment import SEAT_PREFIX, assignment
from seatledger.adapters.db.constraints import translated_violations
from seatledger.adapters.db.grants import grant_from_row
from seatledger.adapters.db.seat_pools import correlated, pool_columns, pool_from_row
from seatledger.domain.grant import BenefitGrant
from seatledger.domain.seat import Invitation, Seat
from seatledger.domain.seat_pool import PoolKind, PoolRef, SeatPool

_seats = t.seats
LIVE = ("pending", "claimed")

_pool_id = correlated(_seats, "pool_id")
_kind = (
    select(t.seat_pools.c.kind)
    .where(t.seat_pools.c.id == _pool_id)
    .scalar_subquery()
    .label("pool_kind")
)
SEAT_COLUMNS = [*_seats.c, _kind]


def _price_of_owner() -> Any:
    """The owning subscription's or order's price, in the seat's statement (ids never clash:
    each is its pool's primary key)."""
    return func.coalesce(
        select(t.subscriptions.c.price_id)
        .where(t.subscriptions.c.id == _pool_id)
        .scalar_subquery(),
        select(t.orders.c.price_id).where(t.orders.c.id == _pool_id).scalar_subquery(),
    ).label("price_id")


def product_of_owner() -> Any:
    """The product of the owning subscription's or order's price, in the seat's statement (one
    table per subquery level, as in ``seat_sync_of_owner``)."""
    price = func.coalesce(
        select(t.subscriptions.c.price_id)
        .where(t.subscriptions.c.id == _pool_id)
        .scalar_subquery(),
        select(t.orders.c.price_id).where(t.orders.c.id == _pool_id).scalar_subquery(),
    )
    return (
        select(t.prices.c.product_id)
        .where(t.prices.c.id == price)
        .scalar_subquery()
        .label("product_id")
    )


def seat_sync_of_owner() -> Any:
    """The owning subscription's price's ``seat_sync`` (None for an order's seat); one table
    per subquery level, as SQLite leaves RETURNING's columns unqualified."""
    subscription_price = (
        select(t.subscriptions.c.price_id).where(t.subscriptions.c.id == _pool_id).scalar_subquery()
    )
    return (
        select(t.prices.c.seat_sync)
        .where(t.prices.c.id == subscription_price)
        .scalar_subquery()
        .label("seat_sync")
    )


def seat_from_row(
    row: Any, invitation: Invitation | None = None, *, kind: PoolKind | None = None
) -> Seat:
    pool_kind = kind or row.pool_kind
    return Seat(
        id=row.id,
        company_id=row.company_id,
        subscription_id=row.pool_id if pool_kind == "subscription" else None,
        order_id=row.pool_id if pool_kind == "order" else None,
        member_id=row.member_id,
        email=row.email,
        status=row.status,
        metadata=dict(row.metadata),
        created_at=row.created_at,
        claimed_at=row.claimed_at,
        revoked_at=row.revoked_at,
        invitation=invitation,
    )


class Seats:
    """The seats of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(
        self,
        ref: PoolRef,
        values: dict[str, Any],
        *,
        email: str | None,
        member_id: str | None,
        invitation: Invitation | None = None,
    ) -> Seat | None:
        """A new seat in the pool, for an email (held by the company's live member of that
        address, if any) or for a live member of the company (with the member's own address,
        which ``email``, when given, must be). None when that member is not the company's."""
        values = {**values, "pool_id": ref.id}
        company_id = values["company_id"]
        live_member = and_(t.members.c.company_id == company_id, t.members.c.removed_at.is_(None))
        statement: Any
        if member_id is not None:
            source = select(
                *[literal(v, type_=_seats.c[k].type).label(k) for k, v in values.items()],
                t.members.c.id.label("member_id"),
                t.members.c.email.label("email"),
            ).where(live_member, t.members.c.id == member_id)
            if email is not None:
                source = source.where(t.members.c.email == email)
            statement = insert(_seats).from_select([*values, "member_id", "email"], source)
        else:
            known = select(t.members.c.id).where(live_member, t.members.c.email == email)
            statement = insert(_seats).values(
                **values, email=email, member_id=known.scalar_subquery()
            )
        with translated_violations():  # the person holds a live seat of this pool already
            row = (await self._connection.execute(statement.returning(*_seats.c))).first()
        return None if row is None else seat_from_row(row, invitation, kind=ref.kind)

    async def assign(
        self,
        ref: PoolRef,
        values: dict[str, Any],
        *,
        email: str,
        invitation: Invitation | None,
        seat_events: Sequence[dict[str, Any]],
        events: Sequence[dict[str, Any]] = (),
        scope_company_id: str | None = None,
    ) -> tuple[SeatPool, Seat] | None:
        """PostgreSQL: a seat of the pool taken (``SeatPools.take``), the seat added for an
        email (``add``) and its events written, in one statement (``assignment``). Answers the
        pool after and the seat, or None when the pool refused (nothing was written)."""
        statement, parameters = assignment(
            ref,
            values,
            email=email,
            seat_events=seat_events,
            events=events,
            scope_company_id=scope_company_id,
        )
        with translated_violations():  # the person holds a live seat of this pool already
            row = (await self._connection.execute(statement, parameters)).first()
        if row is None:
            return None
        return pool_from_row(row), seat_from_row(_prefixed(row), invitation, kind=ref.kind)

    async def take_token(self, token_hash: str, now: datetime) -> tuple[Seat, str] | None:
        """The pending seat behind a live token, its token spent in the same statement (a
        second claim, or a revocation racing this one, finds no pending seat behind it); with
        its pool's product (whose benefits the claim grants). None for a used, expired,
        revoked or unknown token."""
        row = (
            await self._connection.execute(
                update(_seats)
                .where(
                    _seats.c.token_hash == token_hash,
                    _seats.c.status == "pending",
                    _seats.c.token_expires_at > now,
                )
                .values(token_hash=None, token_expires_at=None)
                .returning(*SEAT_COLUMNS, product_of_owner())
            )
        ).first()
        return None if row is None else (seat_from_row(row), row.product_id)

    async def pending_by_token(
        self, token_hash: str, now: datetime
    ) -> tuple[Seat, datetime, str] | None:
        """Read-only: the pending seat behind a live token, its expiry and its pool's price."""
        row = (
            await self._connection.execute(
                select(*SEAT_COLUMNS, _price_of_owner()).where(
                    _seats.c.token_hash == token_hash,
                    _seats.c.status == "pending",
                    _seats.c.token_expires_at > now,
                )
            )
        ).first()
        return None if row is None else (seat_from_row(row), row.token_expires_at, row.price_id)

    async def mark_claimed(self, seat: Seat) -> Seat:
        """Write ``Seat.claim``'s outcome (the seat was taken from its pending state)."""
        row = (
            await self._connection.execute(
                update(_seats)
                .where(_seats.c.id == seat.id)
                .values(
                    status="claimed",
                    claimed_at=seat.claimed_at,
                    member_id=seat.member_id,
                    token_hash=None,
                    token_expires_at=None,
                )
                .returning(*_seats.c)
            )
        ).one()
        return seat_from_row(row, kind="subscription" if seat.subscription_id else "order")

    async def add_claimed(self, ref: PoolRef, values: dict[str, Any]) -> Seat:
        """A seat claimed from the start (the billing manager's in ``members`` mode)."""
        row = (
            await self._connection.execute(
                insert(_seats)
                .values(**values, pool_id=ref.id, status="claimed")
                .returning(*_seats.c)
            )
        ).one()
        return seat_from_row(row, kind=ref.kind)

    async def get(self, seat_id: str, *, scope_company_id: str | None = None) -> Seat | None:
        query = select(*SEAT_COLUMNS).where(scoped(seat_id, scope_company_id))
        row = (await self._connection.execute(query)).first()
        return None if row is None else seat_from_row(row)

    async def reissue(
        self,
        seat_id: str,
        token_hash: str,
        invitation: Invitation,
        *,
        scope_company_id: str | None = None,
    ) -> Seat | None:
        """A pending seat's new token (the old one stops working); None when not pending."""
        row = (
            await self._connection.execute(
                update(_seats)
                .where(scoped(seat_id, scope_company_id), _seats.c.status == "pending")
                .values(token_hash=token_hash, token_expires_at=invitation.expires_at)
                .returning(*SEAT_COLUMNS)
            )
        ).first()
        return None if row is None else seat_from_row(row, invitation)

    async def revoke(
        self,
        seat_id: str,
        now: datetime,
        *,
        scope_company_id: str | None = None,
        release: bool = True,
    ) -> tuple[Seat, bool, list[BenefitGrant]] | None:
        """``Seat.revoke`` on a live seat, its pool's seat released and its live grants revoked
        (``seatledger.adapters.db.revocation``: one statement on PostgreSQL). Answers the seat,
        whether its pool follows members (a subscription's on a ``members`` price) and the
        grants revoked now; None when it is revoked already (or absent). ``release=False``
        keeps the pool's seat taken: a transfer hands it to the next holder at once."""
        statement = (
            update(_seats)
            .where(scoped(seat_id, scope_company_id), _seats.c.status.in_(LIVE))
            .values(status="revoked", revoked_at=now, token_hash=None, token_expires_at=None)
            .returning(*SEAT_COLUMNS, seat_sync_of_owner())
        )
        revoked = await revocation.revoke(
            self._connection, statement, seat_id, now, release=release
        )
        if revoked is None:
            return None
        row = revoked.seat
        grants = [grant_from_row(grant) for grant in revoked.grants]
        return seat_from_row(row), row.seat_sync == "members", grants

    async def revoke_in_pool(
        self, pool_id: str, seat_ids: Sequence[str], now: datetime
    ) -> list[tuple[Seat, list[BenefitGrant]]]:
        """``Seat.revoke`` on those of ``seat_ids`` that are live seats of the pool, whose row
        the caller holds locked: the pool's seats released and the grants revoked with them
        (``revocation.revoke_many``), in a few statements whatever their number. Answers each
        seat revoked now with its grants, in the order of ``seat_ids``."""
        statement = (
            update(_seats)
            .where(
                _seats.c.pool_id == pool_id,
                _seats.c.id.in_(list(seat_ids)),
                _seats.c.status.in_(LIVE),
            )
            .values(status="revoked", revoked_at=now, token_hash=None, token_expires_at=None)
            .returning(*SEAT_COLUMNS)
        )
        rows, grant_rows = await revocation.revoke_many(self._connection, statement, now)
        grants: dict[str, list[BenefitGrant]] = {}
        for row in grant_rows:
            grants.setdefault(row.seat_id, []).append(grant_from_row(row))
        by_id = {row.id: seat_from_row(row) for row in rows}
        return [(by_id[i], grants.get(i, [])) for i in seat_ids if i in by_id]

    async def live_ids_of_member(self, member_id: str) -> list[str]:
        rows = await self._connection.execute(
            select(_seats.c.id).where(_seats.c.member_id == member_id, _seats.c.status.in_(LIVE))
        )
        return list(rows.scalars())

    async def live_of_pool(self, pool_id: str) -> list[Seat]:
        """The pool's pending and claimed seats, oldest first."""
        rows = await self._connection.execute(
            select(*SEAT_COLUMNS)
            .where(_seats.c.pool_id == pool_id, _seats.c.status.in_(LIVE))
            .order_by(_seats.c.created_at, _seats.c.id)
        )
        return [seat_from_row(row) for row in rows]

    async def live_ids_in(self, pool_id: str) -> list[str]:
        rows = await self._connection.execute(
            select(_seats.c.id)
            .where(_seats.c.pool_id == pool_id, _seats.c.status.in_(LIVE))
            .order_by(_seats.c.id)
        )
        return list(rows.scalars())

    async def of_member(
        self, member_id: str, *, pool_id: str | None, include_revoked: bool
    ) -> list[Seat]:
        """The member's seats (in one pool, or in all), oldest first."""
        query = select(*SEAT_COLUMNS).where(_seats.c.member_id == member_id)
        if pool_id is not None:
            query = query.where(_seats.c.pool_id == pool_id)
        if not include_revoked:
            query = query.where(_seats.c.status != "revoked")
        rows = await self._connection.execute(query.order_by(_seats.c.id))
        return [seat_from_row(row) for row in rows]

    async def holds(self, pool_id: str, *, member_id: str, email: str) -> bool:
        """Whether the person (by member or by email) holds a live seat of the pool."""
        row = (
            await self._connection.execute(
                select(_seats.c.id).where(
                    _seats.c.pool_id == pool_id,
                    _seats.c.status.in_(LIVE),
                    (_seats.c.member_id == member_id) | (_seats.c.email == email),
                )
            )
        ).first()
        return row is not None

    async def holders_in(self, pool_id: str, emails: Sequence[str]) -> set[str]:
        """Which of ``emails`` (lowercased) hold a live seat of the pool: one statement."""
        if not emails:
            return set()
        rows = await self._connection.execute(
            select(func.lower(_seats.c.email)).where(
                _seats.c.pool_id == pool_id,
                _seats.c.status.in_(LIVE),
                func.lower(_seats.c.email).in_(list(emails)),
            )
        )
        return {str(email) for email in rows.scalars()}

    async def page_of_pool(
        self,
        ref: PoolRef,
        *,
        include_revoked: bool,
        cursor: str | None,
        limit: int,
        scope_company_id: str | None = None,
    ) -> tuple[SeatPool, list[Seat]] | None:
        """The pool with its counts and up to ``limit + 1`` of its seats after ``cursor``, by
        id (one more tells that there are more), in one statement: the pool's row joined with
        its seats (a pool without one answers one row without a seat).
        None when the pool is absent, of another kind, or outside the company's scope."""
        joined = _seats.c.pool_id == t.seat_pools.c.id
        if not include_revoked:
            joined = and_(joined, _seats.c.status.in_(LIVE))
        if cursor:
            joined = and_(joined, _seats.c.id > cursor)
        query = (
            select(
                *pool_columns(ref.kind),
                *[column.label(SEAT_PREFIX + column.name) for column in _seats.c],
            )
            .select_from(t.seat_pools.outerjoin(_seats, joined))
            .where(t.seat_pools.c.id == ref.id, t.seat_pools.c.kind == ref.kind)
            .order_by(_seats.c.id)
            .limit(limit + 1)
        )
        rows = (await self._connection.execute(query)).all()
        if not rows or (scope_company_id is not None and rows[0].company_id != scope_company_id):
            return None
        seats = [_prefixed(row) for row in rows if row.seat_id is not None]
        return pool_from_row(rows[0]), [seat_from_row(row, kind=ref.kind) for row in seats]

    async def count_live(self, pool_id: str) -> int:
        """Recount from the seat rows (the counter's cross-check in tests and reconciliation)."""
        return int(
            (
                await self._connection.execute(
                    select(func.count())
                    .select_from(_seats)
                    .where(_seats.c.pool_id == pool_id, _seats.c.status.in_(LIVE))
                )
            ).scalar_one()
        )


def _prefixed(row: Any) -> SimpleNamespace:
    """The seat's columns of a row that also carries its pool's (``SEAT_PREFIX``)."""
    return SimpleNamespace(
        **{
            name[len(SEAT_PREFIX) :]: value
            for name, value in row._mapping.items()
            if name.startswith(SEAT_PREFIX)
        }
    )


def scoped(seat_id: str, scope_company_id: str | None) -> ColumnElement[bool]:
    condition = _seats.c.id == seat_id
    if scope_company_id is not None:
        condition = and_(condition, _seats.c.company_id == scope_company_id)
    return condition


def seats_in(pool_ids: Sequence[str]) -> ColumnElement[bool]:
    """The condition on ``seats`` for the seats of these pools."""
    return _seats.c.pool_id.in_(pool_ids)


__all__ = [
    "LIVE",
    "SEAT_COLUMNS",
    "Seats",
    "product_of_owner",
    "scoped",
    "seat_from_row",
    "seat_sync_of_owner",
    "seats_in",
]
