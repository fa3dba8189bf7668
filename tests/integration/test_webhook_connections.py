"""Webhooks to one destination share kept-alive connections, and a connection opened for one
host name is never used for another (``services.webhook_sender``)."""

from __future__ import annotations

import asyncio
from collections import Counter

from seatledger.services.webhook_sender import WebhookSender

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class KeepAliveReceiver:
    """An HTTP/1.1 server on 127.0.0.1 that keeps each connection open and counts, per
    connection, the requests it carried (and their ``Host`` headers)."""

    def __init__(self) -> None:
        self.connections: list[Counter[str]] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hosts: Counter[str] = Counter()
        self.connections.append(hosts)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(
                    line.split(":", 1) for line in head.decode("latin-1").split("\r\n")[1:] if line
                )
                headers = {name.strip().lower(): value.strip() for name, value in headers.items()}
                await reader.readexactly(int(headers.get("content-length", "0")))
                hosts[headers["host"]] += 1
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def test_webhooks_to_one_origin_share_a_connection_and_host_names_never_do() -> None:
    found = KeepAliveReceiver()
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    sender = WebhookSender()
    try:
        for host in ["127.0.0.1"] * 5 + ["localhost"] * 3 + ["127.0.0.1"] * 2:
            sent = await sender.send(
                f"http://{host}:{found.port}/hook",
                event_id="evt_1",
                body="{}",
                secrets=[SECRET],
                pinned=False,
            )
            assert sent.ok, sent.error
    finally:
        await sender.aclose()
        server.close()
    # One connection per host name, each kept alive for every webhook to it.
    assert sorted(found.connections, key=str) == [
        Counter({f"127.0.0.1:{found.port}": 7}),
        Counter({f"localhost:{found.port}": 3}),
    ]
