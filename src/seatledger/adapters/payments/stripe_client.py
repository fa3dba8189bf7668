"""The one Stripe client, its pinned API version, and Stripe's errors translated at the seam.

``API_VERSION`` is the version every request names (``Stripe-Version``), set once here for the
SDK (``stripe.api_version``) and for each client: answers keep the shape this code reads even
when the account's default version moves on.

Retries. The SDK retries connection errors, 409 and 5xx itself (``MAX_NETWORK_RETRIES``, with
backoff, under the same idempotency key); Stripe's 429 it retries only when Stripe says so, so
``call`` retries a rate limit ``RATE_LIMIT_RETRIES`` more times with backoff. What still fails
is ``PaymentProviderUnavailable``: nothing was decided, the caller tries again later with the
same idempotency key. Card errors and invalid requests are answers, left to the gateway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import stripe
from seatledger.domain.errors import PaymentProviderUnavailable

API_VERSION = "2026-10-28.endive"
MAX_NETWORK_RETRIES = 2
RATE_LIMIT_RETRIES = 3
RATE_LIMIT_BACKOFF = 0.5  # seconds, doubled after each 429
TIMEOUT = 30.0  # seconds per request

stripe.api_version = API_VERSION
log = logging.getLogger("seatledger.payments")
T = TypeVar("T")


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, handing httpx a raw body as ``content=``: the SDK passes it as
    ``data=``, which httpx deprecates (and warns about on every POST)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> tuple[Any, Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        if isinstance(kwargs.get("data"), bytes | str):
            kwargs["content"] = kwargs.pop("data")
        return args, kwargs


def make_client(secret_key: str, api_base: str) -> tuple[stripe.StripeClient, stripe.HTTPClient]:
    """A client of the API at ``api_base`` (Stripe's, or a fake's in tests), async over httpx,
    and its HTTP client (``close_async`` closes its connections)."""
    http = _HTTPXClient(timeout=TIMEOUT)
    client = stripe.StripeClient(
        secret_key,
        stripe_version=API_VERSION,
        base_addresses={"api": api_base},
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=http,
    )
    return client, http


async def call(request: Callable[[], Awaitable[T]]) -> T:
    """``request()``, with rate limits retried and unavailability translated."""
    for attempt in range(RATE_LIMIT_RETRIES + 1):
        try:
            return await request()
        except stripe.RateLimitError as error:
            if attempt == RATE_LIMIT_RETRIES:
                raise PaymentProviderUnavailable(
                    "Stripe is rate limiting requests; nothing was charged or changed."
                    " Try again later."
                ) from error
            await asyncio.sleep(RATE_LIMIT_BACKOFF * 2**attempt)
        except (stripe.APIConnectionError, stripe.APIError) as error:
            log.warning("Stripe did not answer: %s", error.user_message or error)
            raise PaymentProviderUnavailable() from error
        except (stripe.AuthenticationError, stripe.PermissionError) as error:
            log.error("Stripe refused the secret key (SEATLEDGER_STRIPE_SECRET_KEY): %s", error)
            raise PaymentProviderUnavailable() from error
        except stripe.IdempotencyError as error:
            # A key seatledger reused with other parameters: a bug, never a charge.
            log.error("Stripe refused an idempotency key: %s", error)
            raise PaymentProviderUnavailable() from error
    raise AssertionError("unreachable")


__all__ = ["API_VERSION", "call", "make_client"]
