"""Idempotency keys: a retried POST gets the first answer instead of doing the work twice.

Stripe's design ("Implementing Stripe-like Idempotency Keys in Postgres", brandur.org): the
key's row is written in the transaction of the work it answers for, so a committed change and
its stored answer exist together or not at all. A key belongs to a ``Slot`` (a credential, a
path, the key; ``seatledger.api.idempotency`` says which). A request with a key:

    look_up ─┬─ nothing (or older than KEEP) ─▶ run: the use case's commit is held
             │                                   ─▶ record: the row, ``done``, with the answer,
             │                                      written in that transaction ─▶ commit
             ├─ ``done``, same request ──────────▶ replay the stored answer
             ├─ ``started``, same request ───────▶ run again, resuming from ``recovery``
             └─ another request (fingerprint) ──▶ ``IdempotencyConflict``

* A crash before the commit leaves nothing: the retry runs the request as if for the first time.
  A crash after it leaves the answer: the retry replays it. The work never runs twice.
* A payment provider is never called with a transaction open (``Runtime.charge``): what is held
  is committed first, with the row ``started`` (a recovery point). A crash after that leaves
  the row ``started``; the retry runs the request again from what the database holds, which the
  use cases are built for (a completed checkout is not charged again; a lease taken before a
  charge is honoured; a charge goes out under an idempotency key derived from committed state,
  or from the ``recovery`` the first run kept: ``recovery_point``).
* Two runs of one key at once: ``seatledger.api.idempotency`` refuses the second in the same
  process (``idempotency_conflict``, still running); across processes both may run, the first to
  record wins, and the other's transaction is rolled back: it answers what the winner stored.
* Answers are stored without secrets (``StoredResponse.withheld`` names what was left out).

Keys are kept at least ``KEEP`` (24 h) from their first run; ``prune`` deletes older ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger import faults
from seatledger.adapters.db import tables as t
from seatledger.adapters.db.unit_of_work import HeldTransaction, holding
from seatledger.domain.errors import IdempotencyConflict
from seatledger.services.runtime import Runtime

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
MAX_PATH_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a key lives: its credential, its path and the key itself."""

    credential: str
    path: str
    key: str


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str
    withheld: str | None = None  # the fields left out of ``body`` (secrets), if any


@dataclass(frozen=True, slots=True)
class Found:
    """A live key of the same request: its answer (``done``), or where to resume."""

    response: StoredResponse | None
    recovery: dict[str, Any] = field(default_factory=dict)


def _row(slot: Slot) -> ColumnElement[bool]:
    table = t.idempotency_keys
    return and_(
        table.c.credential == slot.credential,
        table.c.path == slot.path[:MAX_PATH_LENGTH],
        table.c.key == slot.key,
    )


def _stored(row: Any) -> StoredResponse:
    return StoredResponse(
        status=int(row.response_status),
        body=bytes(row.response_body),
        content_type=str(row.response_content_type),
        withheld=row.response_withheld,
    )


async def _read(connection: AsyncConnection, slot: Slot) -> Any:
    return (await connection.execute(select(t.idempotency_keys).where(_row(slot)))).first()


async def look_up(rt: Runtime, slot: Slot, request_hash: str) -> Found | None:
    """The key's state for this request (one read, no transaction): None for a new key (or
    one older than ``KEEP``); ``IdempotencyConflict`` when the key belongs to another request."""
    async with rt.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        row = await _read(connection, slot)
    return _found(row, request_hash, rt.clock.now())


def _found(row: Any, request_hash: str, now: datetime) -> Found | None:
    if row is None or row.created_at <= now - KEEP:
        return None
    if row.request_hash != request_hash:
        raise IdempotencyConflict()
    if row.status == "done":
        return Found(_stored(row))
    return Found(None, dict(row.recovery or {}))


def _upsert(dialect_name: str, values: dict[str, Any], now: datetime) -> Any:
    """Insert the key's row, or take over a ``started`` row of the same request or an expired
    one; answers nothing (no row) when another run's row stands in the way."""
    table = t.idempotency_keys
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values)
    expired = table.c.created_at <= now - KEEP
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=[table.c.credential, table.c.path, table.c.key],
        set_={
            "request_hash": excluded.request_hash,
            "status": excluded.status,
            "response_status": excluded.response_status,
            "response_body": excluded.response_body,
            "response_content_type": excluded.response_content_type,
            "response_withheld": excluded.response_withheld,
            "recovery": excluded.recovery,
            # A resumed request keeps its first run's time: it is kept KEEP from then.
            "created_at": case((expired, excluded.created_at), else_=table.c.created_at),
        },
        where=or_(
            and_(table.c.status == "started", table.c.request_hash == excluded.request_hash),
            expired,
        ),
    ).returning(table.c.key)


_current: ContextVar[KeyedRequest | None] = ContextVar("seatledger_keyed", default=None)


class KeyedRequest:
    """A request with a key, running: its use case's commits are held until ``record``."""

    def __init__(self, rt: Runtime, slot: Slot, request_hash: str, found: Found | None) -> None:
        self._rt = rt
        self.slot = Slot(slot.credential, slot.path[:MAX_PATH_LENGTH], slot.key)
        self._hash = request_hash
        self.recovery: dict[str, Any] = {} if found is None else dict(found.recovery)
        self._kept = dict(self.recovery)  # the recovery point as written (or none yet)
        self.held = HeldTransaction(self._checkpoint)

    def _values(self, status: str, response: StoredResponse | None) -> dict[str, Any]:
        return {
            "credential": self.slot.credential,
            "path": self.slot.path,
            "key": self.slot.key,
            "request_hash": self._hash,
            "status": status,
            "response_status": None if response is None else response.status,
            "response_body": None if response is None else response.body,
            "response_content_type": None if response is None else response.content_type[:100],
            "response_withheld": None if response is None else response.withheld,
            "recovery": self.recovery or None,
            "created_at": self._rt.clock.now(),
        }

    async def _checkpoint(self, connection: AsyncConnection | None) -> None:
        """Before a payment provider is called: the row becomes ``started`` in what is held
        (or, when nothing is, in a transaction of its own if there is a recovery point to
        keep)."""
        if connection is None and self._kept == self.recovery:
            return
        now = self._rt.clock.now()
        statement = _upsert(self._rt.engine.dialect.name, self._values("started", None), now)
        if connection is not None:
            written = (await connection.execute(statement)).first()
        else:
            async with self._rt.engine.begin() as own:
                written = (await own.execute(statement)).first()
        if written is None:
            raise IdempotencyConflict(
                "Another request with this Idempotency-Key finished meanwhile."
            )
        self._kept = dict(self.recovery)

    async def record(self, response: StoredResponse) -> StoredResponse | None:
        """Store the answer with the work and commit both. Answers None when done; when
        another run of the key recorded first, this run's work is rolled back and the answer
        to give is the winner's (or ``IdempotencyConflict``, when it is not this request's)."""
        now = self._rt.clock.now()
        connection = self.held.connection
        own = connection is None
        if connection is None:
            # Nothing was held (an answer that changed nothing): a small transaction.
            connection = await self._rt.engine.connect()
            await connection.begin()
            self.held.connection = connection
        written = (
            await connection.execute(
                _upsert(connection.dialect.name, self._values("done", response), now)
            )
        ).first()
        if written is None:
            await self.held.rollback()
            return await self._winner()
        if not own:
            faults.reached("recorded")
        await self.held.commit()
        faults.reached("committed")
        return None

    async def _winner(self) -> StoredResponse:
        async with self._rt.engine.connect() as connection:
            row = await _read(connection, self.slot)
        found = _found(row, self._hash, self._rt.clock.now())
        if found is None or found.response is None:
            raise IdempotencyConflict(
                "The first request with this Idempotency-Key is still running."
            )
        return found.response


@asynccontextmanager
async def keyed(
    rt: Runtime, slot: Slot, request_hash: str, found: Found | None
) -> AsyncIterator[KeyedRequest]:
    """Run a request with a key inside: its commits are held until ``KeyedRequest.record``;
    whatever is still held when it ends (a server error, an exception) is rolled back."""
    request = KeyedRequest(rt, slot, request_hash, found)
    token = _current.set(request)
    try:
        with holding(request.held):
            yield request
    finally:
        _current.reset(token)
        await request.held.rollback()


def recovery_point(name: str, value: str) -> str:
    """Inside a keyed request: the value its run before a crash kept under ``name`` (so the
    retry resumes where that run stood), else ``value``, which is kept from the request's next
    checkpoint on. Outside a keyed request: ``value``."""
    request = _current.get()
    if request is None:
        return value
    kept = request.recovery.setdefault(name, value)
    return str(kept)


async def prune(rt: Runtime, *, now: datetime | None = None) -> int:
    """Delete keys older than ``KEEP``; answers how many."""
    cutoff = (now or rt.clock.now()) - KEEP
    async with rt.transaction() as uow:
        result = await uow.connection.execute(
            delete(t.idempotency_keys).where(t.idempotency_keys.c.created_at <= cutoff)
        )
        await uow.commit()
    return int(result.rowcount)


__all__ = [
    "KEEP",
    "Found",
    "KeyedRequest",
    "Slot",
    "StoredResponse",
    "keyed",
    "look_up",
    "prune",
    "recovery_point",
]
