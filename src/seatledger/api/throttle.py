"""Token look-ups and claims, throttled per client address (429 ``rate_limited``).

An invitation token is 256 random bits, so guessing one is hopeless; the throttle is there so
that nobody may try at the server's expense, and so that a leaked link cannot be hammered.
Throttled: ``/v1/claims/{token}`` (look-up and claim) and the claim page ``/claim/{token}``,
every method, together, per client address (the socket's peer, or the address uvicorn's
``--proxy-headers`` puts there for a trusted proxy).

Each address has a bucket of ``rate`` requests that refills at ``rate`` per minute: a burst of
``rate`` requests passes, then one every ``60 / rate`` seconds. A refused request is answered
at once, unread, with ``Retry-After`` (whole seconds until the bucket holds one again).
Buckets live in the process (``seatledger serve --workers N`` gives an address up to N times
the rate); the least recently seen are forgotten beyond ``MAX_ADDRESSES``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from seatledger.api.problems import problem

PREFIXES = ("/v1/claims/", "/claim/")
MAX_ADDRESSES = 100_000


class Buckets:
    """Token buckets by key: ``take(key)`` answers 0 (allowed) or the seconds to wait."""

    def __init__(self, rate: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per_second = rate / 60.0
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, then = self._buckets.pop(key, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - then) * self.per_second)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.per_second
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > MAX_ADDRESSES:
            self._buckets.popitem(last=False)
        return wait


class Throttle:
    """ASGI middleware: claims and token look-ups beyond ``rate`` a minute per address are 429.
    ``rate`` 0 turns the throttle off."""

    def __init__(self, app: ASGIApp, rate: int) -> None:
        self.app = app
        self.buckets = Buckets(rate) if rate > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.buckets is None
            or scope["type"] != "http"
            or not scope["path"].startswith(PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.buckets.take(client[0] if client else "?")
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        refusal = problem(
            429,
            "rate_limited",
            f"Too many token look-ups and claims from this address: try again in {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
        await refusal(scope, receive, send)


__all__ = ["PREFIXES", "Buckets", "Throttle"]
