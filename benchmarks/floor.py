"""The floor under ``http.assign_share_of_tpcb``: seatledger's own assignment statement, served
over HTTP by a bare ASGI application. No framework, no middleware, no authentication, no
validation, no request line, no metrics, no delivery of the events it writes: only what no
implementation of ``POST /v1/seats`` on this stack can skip (uvicorn parsing the request,
decoding its JSON body, one prepared statement through psycopg, an answer).

``make bench`` serves it as it serves seatledger (``--workers 2``, the same wrk script, the
same pools) and reports ``http.assign_floor_share_of_tpcb``: how much of TPC-B an assignment
can reach here at all, so that the distance between it and the product's figure is the cost of
everything the product does around the statement, measured in the same run.

    python -m uvicorn benchmarks.floor:app --workers 2   # SEATLEDGER_DATABASE_URL: PostgreSQL

The statement and its parameters are the product's (``seatledger.adapters.db.assignment``),
with an invitation and its email event, as ``POST /v1/seats`` writes them for an email.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy.dialects import postgresql

from benchmarks.postgres import conninfo
from seatledger.adapters.db.assignment import assignment
from seatledger.domain.ids import new_id
from seatledger.domain.seat_pool import PoolRef

CONNECTIONS = 20  # per process, as `seatledger serve` keeps (SEATLEDGER_DATABASE_POOL_SIZE)
INVITATION_DAYS = 7
BASE_URL = "http://127.0.0.1:8000"
_DRAFT = {
    "id": "",
    "status": "",
    "token_hash": "",
    "token_expires_at": None,
    "metadata": {},
    "created_at": None,
}
_ROW = {"event_id": "", "type": "", "payload": {}, "created_at": None}


def _compiled() -> tuple[str, dict[str, Any]]:
    """The product's statement for a subscription's seat and an email (its seat event carries
    the company and member the statement finds), as psycopg text, and its constant
    parameters."""
    seat_event = {**_ROW, "payload": {"company_id": None, "member_id": None}}
    statement, parameters = assignment(
        PoolRef("subscription", ""), _DRAFT, email="", seat_events=[seat_event], events=[_ROW]
    )
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())  # type: ignore[attr-defined]
    constants = {k: v for k, v in compiled.params.items() if k not in parameters}
    return str(compiled), constants


class Floor:
    """The ASGI application: ``POST`` any path assigns; ``GET`` answers ``{}`` (for readiness)."""

    def __init__(self) -> None:
        self.sql = ""
        self.constants: dict[str, Any] = {}
        self.connections: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()

    async def start(self) -> None:
        self.sql, self.constants = _compiled()
        arguments = conninfo(os.environ["SEATLEDGER_DATABASE_URL"])
        for _ in range(CONNECTIONS):
            connection = await psycopg.AsyncConnection.connect(**arguments)
            self.connections.put_nowait(connection)

    async def stop(self) -> None:
        while not self.connections.empty():
            await self.connections.get_nowait().close()

    def parameters(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        now = datetime.now(UTC)
        expires_at = now + timedelta(days=INVITATION_DAYS)
        token = secrets.token_urlsafe(32)
        seat_id = new_id("seat")
        seat = {
            "id": seat_id,
            "status": "pending",
            "subscription_id": body["subscription_id"],
            "email": body["email"],
            "metadata": {},
            "created_at": now.isoformat(),
        }
        return seat_id, {
            **self.constants,
            "pool_id": body["subscription_id"],
            "email": body["email"],
            "v_id": seat_id,
            "v_status": "pending",
            "v_token_hash": hashlib.sha256(token.encode()).hexdigest(),
            "v_token_expires_at": expires_at,
            "v_metadata": "{}",
            "v_created_at": now,
            "e0_event_id": new_id("evt"),
            "e0_type": "seat.assigned",
            "e0_payload": json.dumps(seat),
            "e0_created_at": now,
            "e1_event_id": new_id("evt"),
            "e1_type": "invitation.email",
            "e1_payload": json.dumps(
                {
                    "seat_id": seat_id,
                    "to": body["email"],
                    "url": f"{BASE_URL}/claim/{token}",
                    "expires_at": expires_at.isoformat(),
                }
            ),
            "e1_created_at": now,
        }

    async def assign(self, body: bytes) -> tuple[int, bytes]:
        seat_id, parameters = self.parameters(json.loads(body))
        connection = await self.connections.get()
        try:
            cursor = await connection.execute(self.sql, parameters, prepare=True)
            row = await cursor.fetchone()
        finally:
            self.connections.put_nowait(connection)
        if row is None:
            return 409, b'{"code": "no_seats_available"}'
        return 201, json.dumps({"id": seat_id, "status": "pending"}).encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                try:
                    await self.start()
                except Exception as error:  # uvicorn would carry on without its connections
                    await send({"type": "lifespan.startup.failed", "message": repr(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            await self.stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, answer = (200, b"{}") if scope["method"] == "GET" else await self.assign(body)
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


app = Floor()
