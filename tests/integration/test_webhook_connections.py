"""Webhooks to one destination share kept-alive connections, and a connection opened for one
host name is never used for another (``services.webhook_sender``)."""

from __future__ import annotations

import asyncio
from collections import Counter

from seatledger.services.webhook_sender import Sent, WebhookSender

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class KeepAliveReceiver:
    """An HTTP/1.1 server on 127.0.0.1 that keeps each connection open and counts, per
    connection, the requests it carried (and their ``Host`` headers)."""

    def __init__(self, *, answers: int = 1_000, close_without_answer: bool = False) -> None:
        self.connections: list[Counter[str]] = []
        self.port = 0
        self.answers = answers  # per connection, then it is closed (as an idle timeout would)
        self.close_without_answer = close_without_answer

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
                if self.close_without_answer:
                    return
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
                if sum(hosts.values()) >= self.answers:
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def _send_all(found: KeepAliveReceiver, hosts: list[str]) -> list[Sent]:
    server = await asyncio.start_server(found.handle, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    sender = WebhookSender(timeout=5)
    try:
        return [
            await sender.send(
                f"http://{host}:{found.port}/hook",
                event_id="evt_1",
                body="{}",
                secrets=[SECRET],
                pinned=False,
            )
            for host in hosts
        ]
    finally:
        await sender.aclose()
        server.close()


async def test_a_connection_the_receiver_closed_is_replaced() -> None:
    found = KeepAliveReceiver(answers=1)
    sent = await _send_all(found, ["127.0.0.1"] * 3)
    assert [one.ok for one in sent] == [True, True, True]
    assert len(found.connections) == 3


async def test_a_receiver_that_closes_without_answering_is_a_failure() -> None:
    found = KeepAliveReceiver(close_without_answer=True)
    (sent,) = await _send_all(found, ["127.0.0.1"])
    assert not sent.ok
    assert sent.error is not None
    assert "could not reach the endpoint" in sent.error


async def test_webhooks_to_one_origin_share_a_connection_and_host_names_never_do() -> None:
    found = KeepAliveReceiver()
    sent = await _send_all(found, ["127.0.0.1"] * 5 + ["localhost"] * 3 + ["127.0.0.1"] * 2)
    assert all(one.ok for one in sent), sent
    # One connection per host name, each kept alive for every webhook to it.
    assert sorted(found.connections, key=str) == [
        Counter({f"127.0.0.1:{found.port}": 7}),
        Counter({f"localhost:{found.port}": 3}),
    ]
