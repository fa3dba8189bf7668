"""Idempotency keys: a retried POST gets the first answer instead of doing the work twice.

A key is scoped to a credential and a path. Its row's lifecycle:

    (none) ──begin──▶ running ──finish──▶ done      (the answer is stored; replayed for KEEP)
                         └──abandon──▶ (none)       (a 5xx or a crash: the key may be retried)

``begin`` answers, in one small transaction:
* ``None``: the caller owns the key now (a new key, a key older than ``KEEP``, or a ``running``
  row older than ``RUNNING_LEASE``, whose process must have died): do the work, then ``finish``
  (or ``abandon`` on a server error);
* a ``StoredResponse``: the same request was answered before; replay it;
* ``Conflict("idempotency_conflict")``: the key was used with another request, or its first
  request is still running.

Keys are kept at least ``KEEP`` (24 h); ``prune`` deletes older ones (the worker may call it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Insert, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from seatledger.adapters.db import tables as t
from seatledger.domain.errors import Conflict
from seatledger.services.runtime import Runtime

KEEP = timedelta(hours=24)
RUNNING_LEASE = timedelta(minutes=5)
MAX_KEY_LENGTH = 255
MAX_PATH_LENGTH = 300


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: bytes
    content_type: str


def _conflict(detail: str) -> Conflict:
    return Conflict("idempotency_conflict", detail)


def _row(credential: str, path: str, key: str) -> ColumnElement[bool]:
    table = t.idempotency_keys
    return and_(table.c.credential == credential, table.c.path == path, table.c.key == key)


async def begin(
    rt: Runtime, *, credential: str, path: str, key: str, request_hash: str
) -> StoredResponse | None:
    """Claim ``key`` for this request, or answer the stored response (see the module doc)."""
    table = t.idempotency_keys
    now = rt.clock.now()
    path = path[:MAX_PATH_LENGTH]
    values = {
        "credential": credential,
        "path": path,
        "key": key,
        "request_hash": request_hash,
        "status": "running",
        "created_at": now,
    }
    where = _row(credential, path, key)
    async with rt.transaction() as uow:
        connection = uow.connection
        statement: Insert
        if connection.dialect.name == "postgresql":
            statement = postgresql.insert(table).values(values).on_conflict_do_nothing()
        else:
            statement = sqlite.insert(table).values(values).on_conflict_do_nothing()
        inserted = (await connection.execute(statement.returning(table.c.key))).first()
        if inserted is None:
            # The key exists: take it over when it has expired or its runner died.
            taken = (
                await connection.execute(
                    update(table)
                    .where(
                        where,
                        or_(
                            table.c.created_at <= now - KEEP,
                            and_(
                                table.c.status == "running",
                                table.c.created_at <= now - RUNNING_LEASE,
                            ),
                        ),
                    )
                    .values(
                        request_hash=request_hash,
                        status="running",
                        response_status=None,
                        response_body=None,
                        response_content_type=None,
                        created_at=now,
                    )
                    .returning(table.c.key)
                )
            ).first()
            if taken is None:
                row = (await connection.execute(select(table).where(where))).one()
                if row.request_hash != request_hash:
                    raise _conflict(
                        "This Idempotency-Key was used with another request; use a new key."
                    )
                if row.status != "done":
                    raise _conflict("The first request with this Idempotency-Key is still running.")
                return StoredResponse(
                    status=int(row.response_status),
                    body=bytes(row.response_body),
                    content_type=str(row.response_content_type),
                )
        await uow.commit()
    return None


async def finish(
    rt: Runtime, *, credential: str, path: str, key: str, response: StoredResponse
) -> None:
    """Store the answer of the request that owns ``key``."""
    async with rt.transaction() as uow:
        await uow.connection.execute(
            update(t.idempotency_keys)
            .where(
                _row(credential, path[:MAX_PATH_LENGTH], key),
                t.idempotency_keys.c.status == "running",
            )
            .values(
                status="done",
                response_status=response.status,
                response_body=response.body,
                response_content_type=response.content_type[:100],
            )
        )
        await uow.commit()


async def abandon(rt: Runtime, *, credential: str, path: str, key: str) -> None:
    """Forget a key whose request failed on the server's side: a retry runs it again."""
    async with rt.transaction() as uow:
        await uow.connection.execute(
            delete(t.idempotency_keys).where(
                _row(credential, path[:MAX_PATH_LENGTH], key),
                t.idempotency_keys.c.status == "running",
            )
        )
        await uow.commit()


async def prune(rt: Runtime, *, now: datetime | None = None) -> int:
    """Delete keys older than ``KEEP``; answers how many."""
    cutoff = (now or rt.clock.now()) - KEEP
    async with rt.transaction() as uow:
        result = await uow.connection.execute(
            delete(t.idempotency_keys).where(t.idempotency_keys.c.created_at <= cutoff)
        )
        await uow.commit()
    return int(result.rowcount)


__all__ = ["KEEP", "RUNNING_LEASE", "StoredResponse", "abandon", "begin", "finish", "prune"]
