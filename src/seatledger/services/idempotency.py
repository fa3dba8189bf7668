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

from seatledger import faults
from seatledger.adapters.db.idempotency_keys import KeyRow, begin, read_key, write_key
from seatledger.adapters.db.unit_of_work import HeldConnection, HeldTransaction, holding
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


def _stored(row: KeyRow) -> StoredResponse:
    # A ``done`` row has its answer.
    assert row.response_status is not None
    assert row.response_body is not None
    return StoredResponse(
        status=row.response_status,
        body=row.response_body,
        content_type=str(row.response_content_type),
        withheld=row.response_withheld,
    )


async def _read(rt: Runtime, slot: Slot) -> KeyRow | None:
    return await read_key(rt.engine, slot.credential, slot.path[:MAX_PATH_LENGTH], slot.key)


async def look_up(rt: Runtime, slot: Slot, request_hash: str) -> Found | None:
    """The key's state for this request (one read, no transaction): None for a new key (or
    one older than ``KEEP``); ``IdempotencyConflict`` when the key belongs to another request."""
    return _found(await _read(rt, slot), request_hash, rt.clock.now())


def _found(row: KeyRow | None, request_hash: str, now: datetime) -> Found | None:
    if row is None or row.created_at <= now - KEEP:
        return None
    if row.request_hash != request_hash:
        raise IdempotencyConflict()
    if row.status == "done":
        return Found(_stored(row))
    return Found(None, dict(row.recovery or {}))


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

    async def _checkpoint(self, connection: HeldConnection | None) -> None:
        """Before a payment provider is called: the row becomes ``started`` in what is held
        (or, when nothing is, in a transaction of its own if there is a recovery point to
        keep)."""
        if connection is None and self._kept == self.recovery:
            return
        values = self._values("started", None)
        if not await write_key(connection, self._rt.engine, values, KEEP):
            raise IdempotencyConflict(
                "Another request with this Idempotency-Key finished meanwhile."
            )
        self._kept = dict(self.recovery)

    async def record(self, response: StoredResponse) -> StoredResponse | None:
        """Store the answer with the work and commit both. Answers None when done; when
        another run of the key recorded first, this run's work is rolled back and the answer
        to give is the winner's (or ``IdempotencyConflict``, when it is not this request's)."""
        connection = self.held.connection
        own = connection is None
        if connection is None:
            # Nothing was held (an answer that changed nothing): a small transaction.
            connection = await begin(self._rt.engine)
            self.held.connection = connection
        if not await write_key(connection, self._rt.engine, self._values("done", response), KEEP):
            await self.held.rollback()
            return await self._winner()
        if not own:
            faults.reached("recorded")
        await self.held.commit()
        faults.reached("committed")
        return None

    async def _winner(self) -> StoredResponse:
        found = _found(await _read(self._rt, self.slot), self._hash, self._rt.clock.now())
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
        pruned = await uow.idempotency_keys.prune(cutoff)
        await uow.commit()
    return pruned


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
