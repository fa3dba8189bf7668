"""Sending one webhook: where it may go, how it is signed, and what came of it (SPEC §10).

* The destination. Unless private addresses are allowed (the sandbox, or
  ``SEATLEDGER_WEBHOOK_ALLOW_PRIVATE=1``), the URL's host is resolved and every address it
  resolves to must be public (``domain.webhook.forbidden_address``); the request then goes to
  the address that was checked (the ``Host`` header and, for https, the TLS server name stay
  the URL's), so a DNS answer that changes between the check and the connection cannot steer
  it inside. The same check refuses such a URL when an endpoint is created or changed.
* The signature: Standard Webhooks (the ``standardwebhooks`` library), ``webhook-id`` the event
  id, ``webhook-timestamp`` the wall clock (receivers check it against theirs, even when the
  sandbox clock has moved), ``webhook-signature`` one ``v1,…`` per secret, space-separated.
* The outcome: a 2xx within ``SEND_TIMEOUT`` succeeds; a redirect is not followed and, like any
  other answer, timeout or connection error, is a failure described in ``error``.

Connections are kept alive between webhooks to one destination (a receiver taking a backlog
would otherwise pay a TCP and TLS handshake per event): one connection pool (a
``webhook_connections.KeepAliveTransport``, used without httpx's client) per origin of the URL
(scheme, host, port), so a connection opened for one host name is never reused for another
(the TLS name it checked is its own), each keeping at most ``KEEPALIVE`` idle connections for
``KEEPALIVE_EXPIRY`` seconds. At most ``MAX_ORIGINS`` pools are kept: beyond that, the least
recently used one with no request under way is closed. A kept connection still goes only to an
address that was checked: a request is pooled by the address it is sent to.
Everything is closed by ``aclose``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from seatledger.domain.webhook import SEND_TIMEOUT, IpAddress, forbidden_address
from seatledger.services.webhook_connections import KeepAliveTransport

RESOLVE_TIMEOUT = 5.0  # seconds
MAX_ERROR = 500  # characters of ``last_error``
KEEPALIVE = 8  # idle connections kept per origin
KEEPALIVE_EXPIRY = 30.0  # seconds an idle connection is kept
MAX_ORIGINS = 64  # clients (origins) kept with their connections


class RefusedDestination(Exception):
    """The URL's host does not resolve, or resolves to an address webhooks may not reach."""


@dataclass(frozen=True, slots=True)
class Sent:
    """What came of one attempt: ``ok`` for a 2xx; else ``error`` says what went wrong."""

    ok: bool
    status: int | None = None  # the receiver's answer, if it answered
    error: str | None = None


def sign(secrets: Sequence[str], event_id: str, moment: datetime, body: str) -> str:
    """The ``webhook-signature`` header: one signature per secret, space-separated."""
    return " ".join(Webhook(secret).sign(event_id, moment, body) for secret in secrets)


async def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to (``RefusedDestination`` when none)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError, UnicodeError):
        raise RefusedDestination(f"the host {host} does not resolve") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not addresses:
        raise RefusedDestination(f"the host {host} does not resolve")
    return addresses


Resolver = Callable[[str, int], Awaitable[list[IpAddress]]]


async def checked_address(url: str, resolver: Resolver = resolve) -> IpAddress:
    """The address a webhook to ``url`` goes to, once every address of its host is found
    public; ``RefusedDestination`` otherwise."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = await resolver(host, port)
    refused = [address for address in addresses if forbidden_address(address)]
    if refused:
        raise RefusedDestination(
            f"the host {host} resolves to {refused[0]}, a loopback, private, link-local,"
            " multicast or unspecified address"
        )
    return addresses[0]


def _describe(error: httpx.HTTPError) -> str:
    return f"could not reach the endpoint: {type(error).__name__}: {error}"[:MAX_ERROR]


class WebhookSender:
    """Sends signed webhooks through one HTTP client (module docstring)."""

    def __init__(
        self,
        *,
        timeout: float = SEND_TIMEOUT,
        resolver: Resolver = resolve,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = timeout
        self._resolver = resolver  # the system's DNS; a fake one in tests
        self._transport = transport  # httpx's own, unless a test gives one
        self._pools: OrderedDict[str, httpx.AsyncBaseTransport] = OrderedDict()  # oldest first
        self._busy: Counter[str] = Counter()  # requests under way, by origin
        self._timeouts = httpx.Timeout(timeout).as_dict()

    async def _pool(self, origin: str) -> httpx.AsyncBaseTransport:
        pool = self._pools.pop(origin, None)
        if pool is None:
            # The transport alone, without httpx's client: no redirects, cookies, proxies from
            # the environment (they would bypass the address check) or other work per request.
            pool = self._transport or KeepAliveTransport(
                keepalive=KEEPALIVE, expiry=KEEPALIVE_EXPIRY
            )
        self._pools[origin] = pool
        idle = [name for name in self._pools if name != origin and not self._busy[name]]
        for name in idle[: max(0, len(self._pools) - MAX_ORIGINS)]:
            await self._pools.pop(name).aclose()
        return pool

    async def aclose(self) -> None:
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.aclose()

    async def _post(
        self, origin: str, target: httpx.URL, body: str, headers: dict[str, str], extensions: Any
    ) -> httpx.Response:
        request = httpx.Request(
            "POST",
            target,
            content=body.encode(),
            headers=headers,
            extensions={**extensions, "timeout": self._timeouts},
        )
        self._busy[origin] += 1
        try:
            response = await (await self._pool(origin)).handle_async_request(request)
            try:
                await response.aread()
            finally:
                await response.aclose()
            return response
        finally:
            self._busy[origin] -= 1
            if not self._busy[origin]:
                del self._busy[origin]

    async def send(
        self, url: str, *, event_id: str, body: str, secrets: Sequence[str], pinned: bool
    ) -> Sent:
        """POST ``body`` to ``url``, signed with ``secrets``. ``pinned``: check the host's
        addresses and connect to the one checked (module docstring)."""
        target = httpx.URL(url)
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        headers = {"content-type": "application/json", "user-agent": "seatledger-webhooks"}
        extensions: dict[str, str] = {}
        if pinned:
            try:
                address = await checked_address(url, self._resolver)
            except RefusedDestination as refused:
                return Sent(ok=False, error=f"not sent: {refused}"[:MAX_ERROR])
            headers["host"] = target.netloc.decode("ascii")
            if target.scheme == "https":
                extensions["sni_hostname"] = target.host
            target = target.copy_with(host=str(address))
        moment = datetime.now(UTC)  # the wall clock, even in the sandbox (SPEC §10)
        headers["webhook-id"] = event_id
        headers["webhook-timestamp"] = str(int(moment.timestamp()))
        headers["webhook-signature"] = sign(secrets, event_id, moment, body)
        try:
            response = await self._post(origin, target, body, headers, extensions)
        except httpx.TimeoutException:
            return Sent(ok=False, error=f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as error:
            return Sent(ok=False, error=_describe(error))
        if 200 <= response.status_code < 300:
            return Sent(ok=True, status=response.status_code)
        if response.is_redirect:
            where = response.headers.get("location", "")
            failure = f"answered {response.status_code}, a redirect to {where} (not followed)"
        else:
            failure = f"answered {response.status_code}"
        return Sent(ok=False, status=response.status_code, error=failure[:MAX_ERROR])


__all__ = [
    "RefusedDestination",
    "Resolver",
    "Sent",
    "WebhookSender",
    "checked_address",
    "resolve",
    "sign",
]
