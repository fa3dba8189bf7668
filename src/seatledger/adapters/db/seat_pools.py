"""Seat pools in the database: ``seat_pools`` rows read with their owner's company, status and
price, as ``SeatPool`` values (``seatledger.domain.seat_pool``).

A pool shares its owner's id, so the owner's row is found by the pool's id, and a seat's
``pool_id`` is its subscription's or order's id. The counts are written only here and in the
statements that take or free a seat with the seat's own change (``assignment``,
``revocation``, beside this module); the rules the statements enforce are stated by the
domain's methods:

* ``take``: ``SeatPool.take`` as one conditional update (capacity and assignability, the
  owner's row read in the same statement, and the pool not closed by a cancellation); None
  when refused, and ``SeatPool.take`` on a fresh read then names why;
* ``close``: a cancellation closes its subscription's pool, under the pool's row lock;
* ``release``: ``SeatPool.release``, in a seat's revoking statement (``revocation``);
* ``resize``: ``SeatPool.grow``/``shrink``/``resize``, under the pool's and the subscription's
  row locks (``lock_subscription``) taken by the use case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import ReturningUpdate

from seatledger.adapters.db import tables as t
from seatledger.domain.errors import SeatsBelowAssigned
from seatledger.domain.seat_pool import PoolKind, PoolRef, SeatPool

_pools = t.seat_pools
OWNERS: dict[PoolKind, Table] = {"subscription": t.subscriptions, "order": t.orders}


def correlated(table: Table, column: str) -> Any:
    """``table.column`` as the enclosing statement's, spelled out: SQLite's RETURNING names its
    table's columns unqualified, also inside a subquery, where they would mean the subquery's."""
    return literal_column(f"{table.name}.{column}")


def counted(owner: Table) -> list[Any]:
    """The owner's columns with its pool's ``seats`` and ``assigned_seats``, read in the same
    statement (a subscription's or an order's answer shows both)."""
    owner_id = correlated(owner, "id")
    return [
        *owner.c,
        _of_pool(_pools.c.seats, owner_id).label("seats"),
        _of_pool(_pools.c.assigned_seats, owner_id).label("assigned_seats"),
    ]


def _of_pool(column: Any, owner_id: Any) -> Any:
    return select(column).where(_pools.c.id == owner_id).scalar_subquery()


def _of_owner(owner: Table, column: str) -> Any:
    return select(owner.c[column]).where(owner.c.id == correlated(_pools, "id")).scalar_subquery()


def columns_of(table: Table) -> list[Any]:
    """A table's columns as its rows are read: an owner's with its pool's counts."""
    return counted(table) if table in (t.subscriptions, t.orders) else list(table.c)


async def lock_subscription(connection: AsyncConnection, condition: Any) -> Any | None:
    """The subscription's row with its pool's counts, both rows locked for this transaction.

    The pool's row is locked first, then the subscription's, in two statements: the order every
    use case takes them in (an assignment holds the pool's row before it may grow the
    subscription; a lock order left to a join's plan differs between processes, and they
    deadlock). The counts are read after the pool's lock is held, so they are the ones the last
    change left (a subquery in a statement that waited would read them from before the wait)."""
    locked = (
        await connection.execute(
            select(_pools.c.id)
            .join(t.subscriptions, t.subscriptions.c.id == _pools.c.id)
            .where(condition)
            .with_for_update(of=_pools)
        )
    ).first()
    if locked is None:
        return None
    return (
        await connection.execute(
            select(*t.subscriptions.c, _pools.c.seats, _pools.c.assigned_seats)
            .join(_pools, _pools.c.id == t.subscriptions.c.id)
            .where(t.subscriptions.c.id == locked.id)
            .with_for_update(of=t.subscriptions)
        )
    ).one()


def due_subscriptions() -> Select[Any]:
    """Subscriptions with their pools' counts, both rows locked, skipping any either of which
    another transaction holds (the renewal scan: it never waits, so it never deadlocks with an
    assignment that grows a pool). A subscription a provider bills (``billing`` mode) is not
    seatledger's to renew or dun: the provider does both, and its state is mirrored."""
    billed_elsewhere = exists().where(
        t.provider_subscriptions.c.subscription_id == t.subscriptions.c.id
    )
    return (
        select(*t.subscriptions.c, _pools.c.seats, _pools.c.assigned_seats)
        .join(_pools, _pools.c.id == t.subscriptions.c.id)
        .where(~billed_elsewhere)
        .with_for_update(skip_locked=True)
    )


SUBSCRIPTION_COLUMNS = counted(t.subscriptions)
ORDER_COLUMNS = counted(t.orders)


def _assignable(kind: PoolKind, scope_company_id: Any) -> ColumnElement[bool]:
    """``SeatPool.check_assignable`` in SQL, on the owner's row."""
    owner = OWNERS[kind]
    status = owner.c.status != "canceled" if kind == "subscription" else owner.c.status == "paid"
    condition = and_(owner.c.id == _pools.c.id, owner.c.company_id.is_not(None), status)
    if scope_company_id is not None:
        condition = and_(condition, owner.c.company_id == scope_company_id)
    return select(owner.c.id).where(condition).exists()


def _returning(kind: PoolKind) -> list[Any]:
    """The pool's columns with its owner's company, price and status (``pool_from_row``)."""
    owner = OWNERS[kind]
    return [
        _pools.c.id,
        _pools.c.kind,
        _pools.c.seats,
        _pools.c.assigned_seats,
        _of_owner(owner, "company_id").label("company_id"),
        _of_owner(owner, "price_id").label("price_id"),
        _of_owner(owner, "status").label("owner_status"),
    ]


pool_columns = _returning


def taking(
    kind: PoolKind, pool_id: Any, scope_company_id: Any, count: int = 1
) -> ReturningUpdate[Any]:
    """``SeatPool.take`` as one conditional update answering the pool after (``take``; the
    first step of an assignment made in one statement, ``seatledger.adapters.db.assignment``,
    which passes bind parameters for the pool's id and the scope)."""
    return (
        update(_pools)
        .where(
            _pools.c.id == pool_id,
            _pools.c.kind == kind,
            # One seat (every assignment) as the statement always read; more for a sync.
            _pools.c.assigned_seats < _pools.c.seats
            if count == 1
            else _pools.c.assigned_seats + count <= _pools.c.seats,
            # On the pool's own row, which PostgreSQL reads again after waiting for its lock:
            # the owner's status below is read from the snapshot before that wait, and would
            # let a take queued behind a cancellation into the canceled pool.
            _pools.c.closed_at.is_(None),
            _assignable(kind, scope_company_id),
        )
        .values(assigned_seats=_pools.c.assigned_seats + count)
        .returning(*_returning(kind))
    )


def pool_from_row(row: Any) -> SeatPool:
    return SeatPool(
        id=row.id,
        kind=row.kind,
        company_id=row.company_id,
        price_id=row.price_id,
        owner_status=row.owner_status,
        seats=row.seats,
        assigned_seats=row.assigned_seats,
    )


_renew_size = (
    update(_pools)
    .where(_pools.c.id == bindparam("b_id"))
    .values(
        seats=case(
            (_pools.c.assigned_seats > bindparam("b_seats"), _pools.c.assigned_seats),
            else_=bindparam("b_seats"),
        )
    )
)


class SeatPools:
    """The pools of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def create(self, pool_id: str, kind: PoolKind, seats: int, now: datetime) -> None:
        """A new owner's pool (written before the owner, whose id refers to it)."""
        await self._connection.execute(
            insert(_pools).values(
                id=pool_id, kind=kind, seats=seats, assigned_seats=0, created_at=now
            )
        )

    async def get(self, ref: PoolRef, *, scope_company_id: str | None = None) -> SeatPool | None:
        """The pool (None when absent, of another kind, or outside the company's scope)."""
        row = (
            await self._connection.execute(
                select(*_returning(ref.kind)).where(
                    _pools.c.id == ref.id, _pools.c.kind == ref.kind
                )
            )
        ).first()
        if row is None or (scope_company_id is not None and row.company_id != scope_company_id):
            return None
        return pool_from_row(row)

    async def lock(self, ref: PoolRef, *, scope_company_id: str | None = None) -> SeatPool | None:
        """The pool, its row locked for this transaction (``FOR NO KEY UPDATE``, the lock its
        own ``UPDATE`` takes): assignments, revocations and resizes of it wait until this
        transaction ends. Read after the lock is held, so the counts are the last ones
        committed. SQLite's write transactions are serialised already. None as ``get``."""
        if self._connection.dialect.name == "postgresql":
            await self._connection.execute(
                select(_pools.c.id)
                .where(_pools.c.id == ref.id, _pools.c.kind == ref.kind)
                .with_for_update(key_share=True)
            )
        return await self.get(ref, scope_company_id=scope_company_id)

    async def take(
        self, ref: PoolRef, *, scope_company_id: str | None = None, count: int = 1
    ) -> SeatPool | None:
        """``count`` seats of the pool (one by default), atomically: the capacity guard is the
        conditional update ``assigned_seats + count <= seats`` (concurrent takes queue on the
        pool's row and each sees the count its predecessor left). Answers the pool after, or
        None when refused (nothing taken)."""
        statement = taking(ref.kind, ref.id, scope_company_id, count)
        row = (await self._connection.execute(statement)).first()
        return None if row is None else pool_from_row(row)

    async def take_any(self, pool_id: str) -> bool:
        """One seat of the pool if one is free, whoever owns it (the caller checked that it may
        assign, under the owner's row lock)."""
        row = (
            await self._connection.execute(
                update(_pools)
                .where(_pools.c.id == pool_id, _pools.c.assigned_seats < _pools.c.seats)
                .values(assigned_seats=_pools.c.assigned_seats + 1)
                .returning(_pools.c.id)
            )
        ).first()
        return row is not None

    async def close(self, pool_id: str, now: datetime) -> None:
        """Close the pool of a subscription being canceled (its row is locked by the caller):
        no take succeeds afterwards, also one already waiting for the row."""
        await self._connection.execute(
            update(_pools).where(_pools.c.id == pool_id).values(closed_at=now)
        )

    async def resize(self, pool_id: str, seats: int, *, assigned_delta: int = 0) -> None:
        """The pool's purchased count (and assigned count, moved by ``assigned_delta``):
        ``SeatPool.resize``, atomically. The change was planned under the subscription's row
        lock, but assignments take the pool's row only: one that landed meanwhile may leave
        fewer seats than are assigned, and the guard refuses with ``seats_below_assigned``
        instead of breaking the CHECK."""
        values: dict[str, Any] = {"seats": seats}
        if assigned_delta:
            values["assigned_seats"] = _pools.c.assigned_seats + assigned_delta
        row = (
            await self._connection.execute(
                update(_pools)
                .where(_pools.c.id == pool_id, _pools.c.assigned_seats + assigned_delta <= seats)
                .values(values)
                .returning(_pools.c.id)
            )
        ).first()
        if row is None:
            raise SeatsBelowAssigned()

    async def renew_sizes(self, sizes: Sequence[tuple[str, int]]) -> None:
        """Renewed pools' purchased counts in one batched statement: each the renewal's
        target, or the seats assigned when more (SPEC §3: ``max(target, assigned)``; seats
        are never revoked implicitly), also when an assignment landed after the plan."""
        if sizes:
            await self._connection.execute(
                _renew_size, [{"b_id": pool_id, "b_seats": seats} for pool_id, seats in sizes]
            )


__all__ = [
    "ORDER_COLUMNS",
    "OWNERS",
    "SUBSCRIPTION_COLUMNS",
    "SeatPools",
    "columns_of",
    "correlated",
    "counted",
    "due_subscriptions",
    "lock_subscription",
    "pool_columns",
    "pool_from_row",
    "taking",
]
