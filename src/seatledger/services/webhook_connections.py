"""The HTTP/1.1 connections webhooks go out on: an ``httpx`` transport over asyncio streams that
keeps idle connections alive (``services.webhook_sender``).

httpx's own transport (httpcore over anyio) spent most of a webhook's time in the profile: a
pool built for any use, two writes per request, checks on every step. Webhooks need far less:
one ``POST`` with a small body, an answer whose body is read and dropped. So this transport

* writes each request (its head and body, framed by ``h11``) in one write, and reads the
  answer with ``h11``, which checks the framing;
* keeps at most ``keepalive`` idle connections per destination for ``expiry`` seconds, the
  destination being the address connected to, its port and, for https, the TLS server name
  (a connection checked for one host name is never reused for another); a connection the
  receiver closed while idle is dropped, and a request it fails on before any answer is sent
  again once on a new connection;
* bounds the whole exchange (connecting, sending, the answer) by the request's ``read``
  timeout; never follows a redirect (it answers what it got); raises httpx's exceptions
  (``ConnectError``, ``ReadTimeout``, ``RemoteProtocolError``…), as httpx's transport does.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass, field

import h11
import httpx

KEEPALIVE = 8  # idle connections kept per destination
KEEPALIVE_EXPIRY = 30.0  # seconds an idle connection is kept
MAX_ANSWER = 64 * 1024  # bytes of an answer's body kept (the rest is read and dropped)
READ_SIZE = 64 * 1024

_Key = tuple[str, str, int, str | None]  # scheme, address, port, TLS server name


@dataclass(eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    protocol: h11.Connection = field(default_factory=lambda: h11.Connection(h11.CLIENT))
    idle_since: float = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        return now - self.idle_since < expiry and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class _NoAnswer(Exception):
    """The connection closed before any byte of an answer: safe to send again once."""


def _request_bytes(protocol: h11.Connection, request: httpx.Request, body: bytes) -> bytes:
    headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"host"]
    head = h11.Request(
        method=request.method,
        target=request.url.raw_path,
        headers=[(b"host", request.headers["host"].encode("ascii")), *headers],
    )
    return b"".join(
        protocol.send(event) or b"" for event in (head, h11.Data(data=body), h11.EndOfMessage())
    )


async def _answer(connection: _Connection) -> tuple[h11.Response, bytes]:
    protocol, received, head = connection.protocol, bytearray(), None
    while True:
        event = protocol.next_event()
        if event is h11.NEED_DATA:
            data = await connection.reader.read(READ_SIZE)
            if not data and head is None and protocol.their_state is h11.SEND_RESPONSE:
                raise _NoAnswer
            protocol.receive_data(data)
        elif isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            if len(received) < MAX_ANSWER:
                received += event.data[: MAX_ANSWER - len(received)]
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            return head, bytes(received)
        elif isinstance(event, h11.ConnectionClosed):
            raise httpx.RemoteProtocolError("the receiver closed the connection mid-answer")


class KeepAliveTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with kept-alive connections, for webhooks (module docstring)."""

    def __init__(self, *, keepalive: int = KEEPALIVE, expiry: float = KEEPALIVE_EXPIRY) -> None:
        self.keepalive = keepalive
        self.expiry = expiry
        self._idle: defaultdict[_Key, list[_Connection]] = defaultdict(list)
        self._tls: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()
        return self._tls

    async def _open(self, key: _Key) -> _Connection:
        scheme, host, port, server_name = key
        tls = self._context() if scheme == "https" else None
        reader, writer = await asyncio.open_connection(
            host, port, ssl=tls, server_hostname=server_name if tls else None
        )
        return _Connection(reader, writer)

    def _reuse(self, key: _Key) -> _Connection | None:
        idle, now = self._idle[key], time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now, self.expiry):
                return connection
            connection.close()
        return None

    def _release(self, key: _Key, connection: _Connection) -> None:
        protocol = connection.protocol
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
            if len(self._idle[key]) < self.keepalive:
                connection.idle_since = time.monotonic()
                self._idle[key].append(connection)
                return
        connection.close()

    async def _over(
        self, key: _Key, connection: _Connection, request: httpx.Request, body: bytes
    ) -> httpx.Response:
        try:
            connection.writer.write(_request_bytes(connection.protocol, request, body))
            await connection.writer.drain()
            head, content = await _answer(connection)
        except BaseException:
            connection.close()
            raise
        self._release(key, connection)
        return httpx.Response(head.status_code, headers=head.headers, content=content)

    async def _exchange(self, key: _Key, request: httpx.Request, body: bytes) -> httpx.Response:
        connection = self._reuse(key)
        if connection is not None:
            try:
                return await self._over(key, connection, request, body)
            except (_NoAnswer, ConnectionError):
                pass  # the receiver dropped it while idle: once more, on a new connection
        try:
            return await self._over(key, await self._open(key), request, body)
        except (_NoAnswer, ConnectionError) as error:
            raise httpx.RemoteProtocolError(f"no answer: {type(error).__name__}") from error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        server_name = request.extensions.get("sni_hostname") or url.host
        key: _Key = (url.scheme, url.host, port, server_name if url.scheme == "https" else None)
        timeout = request.extensions.get("timeout", {}).get("read") or None
        body = await request.aread()
        try:
            async with asyncio.timeout(timeout):
                return await self._exchange(key, request, body)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no answer within {timeout:g} s", request=request) from None
        except h11.ProtocolError as error:
            raise httpx.RemoteProtocolError(f"{error}", request=request) from None
        except OSError as error:  # refused, unreachable, TLS trouble
            raise httpx.ConnectError(f"{type(error).__name__}: {error}", request=request) from None

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()


__all__ = ["KEEPALIVE", "KEEPALIVE_EXPIRY", "KeepAliveTransport"]
