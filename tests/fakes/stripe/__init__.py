"""A fake of Stripe's HTTP API for the tests: a real server the official SDK talks to.

One module per resource family (``customers``, ``payment_methods``, ``payment_intents``,
``checkout_sessions``, ``events``); ``wire`` holds Stripe's wire format, ``app`` the
cross-cutting behaviour (keys, idempotency, knobs, expand), ``server`` the thread it runs in and
the handle tests use (``FakeStripe``).
"""

from tests.fakes.stripe.server import SECRET_KEY, WEBHOOK_SECRET, FakeStripe

__all__ = ["SECRET_KEY", "WEBHOOK_SECRET", "FakeStripe"]
