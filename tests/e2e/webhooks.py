"""A real webhook receiver on 127.0.0.1, and the delivery loop's fan-out as the tests drive it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from seatledger.adapters.db import tables as t
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime
from seatledger.services.webhook_deliveries import CHANNEL
from tests.integration.outbox_drain import fan_out_undelivered


async def dispatch_undelivered(rt: Runtime, channels: Sequence[Channel] = (CHANNEL,)) -> int:
    """Fan out every undelivered outbox event to the webhooks channel; answers how many."""
    return await fan_out_undelivered(rt, channels)


async def emit(rt: Runtime, event_type: str, payload: dict[str, Any] | None = None) -> str:
    """Record one event in the outbox, as a use case does; answers its id."""
    async with rt.transaction() as uow:
        uow.emit(event_type, payload or {"note": event_type})
        await uow.commit()
    async with rt.reading() as uow:
        query = select(t.outbox.c.event_id).order_by(t.outbox.c.id.desc()).limit(1)
        event_id: str = (await uow.connection.execute(query)).scalar_one()
    return event_id


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def verify(self, secret: str) -> Any:
        """The body, once ``secret``'s signature is found among the request's."""
        return Webhook(secret).verify(self.body, self.headers)

    def verifies(self, secret: str) -> bool:
        try:
            self.verify(secret)
        except WebhookVerificationError:
            return False
        return True


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Receiver:
    """An HTTP/1.1 server that records every request and answers from ``script`` (in order;
    200 once it runs out)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    handlers: set[asyncio.Task[Any]] = field(default_factory=set)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.received.append(Received(path, headers, body))
            answer = self.script.pop(0) if self.script else Answer()
            if answer.delay:
                await asyncio.sleep(answer.delay)
            extra = "".join(f"{name}: {value}\r\n" for name, value in answer.headers.items())
            writer.write(
                f"HTTP/1.1 {answer.status} X\r\ncontent-length: 0\r\nconnection: close\r\n"
                f"{extra}\r\n".encode()
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.handlers.discard(task)


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    try:
        yield found
    finally:
        server.close()
        for task in list(found.handlers):  # a slow answer still sleeping
            task.cancel()
        await asyncio.gather(*found.handlers, return_exceptions=True)
        await server.wait_closed()
