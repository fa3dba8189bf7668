"""Wiring: settings in, a ready ``Runtime`` out. The one place that picks concrete adapters.

A runtime that takes payments needs a payment provider that may run with these settings: the
``local`` gateway takes test cards only, so it runs in the sandbox and nowhere else (SPEC §7);
``stripe`` needs its secret key and webhook secret, and runs in ``payments`` mode or, with
``SEATLEDGER_STRIPE_MODE=billing``, with Stripe Billing owning the subscriptions
(``Runtime.billing``). Otherwise ``StartupError`` says what to set. Commands that never charge
(``seatledger keys``) build their runtime with ``payments=False``.

The sandbox and ``stripe`` may run together: the sandbox clock then drives renewals (what the
tests do against a fake of Stripe's API), while Stripe keeps its own time for what it owns (a
Checkout Session's expiry, webhook signatures). Without the sandbox, ``stripe`` is production.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.db.payment_customers import PaymentCustomers
from seatledger.adapters.db.provider_billing import ProviderPriceBook
from seatledger.adapters.mail.smtp import SmtpMailer
from seatledger.adapters.payments.local import LocalGateway
from seatledger.adapters.payments.stripe_billing import StripeBilling
from seatledger.adapters.payments.stripe_gateway import StripeGateway
from seatledger.config import Settings, StartupError
from seatledger.domain.clock import Clock, SandboxClock, SystemClock
from seatledger.domain.events import EventRenderer, plain_payload
from seatledger.domain.mail import Mailer
from seatledger.domain.payments import PaymentGateway, PaymentRequest, PaymentResult
from seatledger.domain.provider_billing import SubscriptionBilling
from seatledger.services import (
    emails,
    provider_events,
    provider_seat_sync,
    provider_starts,
    webhook_deliveries,
)
from seatledger.services.channels import Channel
from seatledger.services.runtime import Runtime
from seatledger.services.sandbox_clock import load_sandbox_time


def check_payment_provider(settings: Settings) -> None:
    """``StartupError`` unless the configured payment provider may take payments."""
    if settings.payment_provider == "stripe":
        _check_stripe(settings)
        return
    if not settings.sandbox:
        raise StartupError(
            "SEATLEDGER_PAYMENT_PROVIDER=local takes test cards only and runs only in the"
            " sandbox: set SEATLEDGER_SANDBOX=1"
        )


def _check_stripe(settings: Settings) -> None:
    if not settings.stripe_secret_key:
        raise StartupError(
            "SEATLEDGER_PAYMENT_PROVIDER=stripe needs SEATLEDGER_STRIPE_SECRET_KEY (sk_live_… or"
            " sk_test_…, from Stripe's dashboard)"
        )
    if not settings.stripe_webhook_secret:
        raise StartupError(
            "SEATLEDGER_PAYMENT_PROVIDER=stripe needs SEATLEDGER_STRIPE_WEBHOOK_SECRET (the"
            " whsec_… signing secret of the endpoint pointing at /v1/stripe/webhooks)"
        )


def payment_gateway(settings: Settings, engine: AsyncEngine) -> PaymentGateway:
    check_payment_provider(settings)
    if settings.payment_provider == "stripe":
        return StripeGateway(
            secret_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            public_url=settings.public_url,
            customers=PaymentCustomers(engine, "stripe"),
        )
    return LocalGateway()


def subscription_billing(settings: Settings, engine: AsyncEngine) -> SubscriptionBilling | None:
    """Stripe Billing in ``billing`` mode; None otherwise."""
    if settings.payment_provider != "stripe" or settings.stripe_mode != "billing":
        return None
    return StripeBilling(
        secret_key=settings.stripe_secret_key,
        api_base=settings.stripe_api_base,
        prices=ProviderPriceBook(engine, "stripe"),
    )


class _NoPayments:
    """The gateway of a runtime built not to take payments: it never charges."""

    name = "none"

    def check_payment_method(self, payment_method: str) -> None:
        raise RuntimeError("this runtime takes no payments")

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        raise RuntimeError("this runtime takes no payments")


def mailer(settings: Settings) -> Mailer | None:
    """The SMTP sender of ``SEATLEDGER_SMTP_URL``; None without it (emails are held)."""
    server = settings.smtp
    return None if server is None else SmtpMailer(server, settings.email_from)


def default_clock(settings: Settings) -> Clock:
    """The system clock; in sandbox mode the shared sandbox clock, loaded from its row now
    (``seatledger.services.sandbox`` says how processes keep in step)."""
    if settings.sandbox:
        return SandboxClock(load_sandbox_time(settings.database_url))
    return SystemClock()


def build_runtime(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    payments: bool = True,
    render_event: Callable[[Settings], EventRenderer] | None = None,
) -> Runtime:
    """The runtime of ``settings`` (the environment's when None). ``StartupError`` when it
    should take payments and its provider may not run. ``render_event`` makes the renderer of
    its events from the settings: the API's (``seatledger.api.event_rendering``), which the
    callers above the API layer pass; without it, ``plain_payload``."""
    settings = settings or Settings.from_env()
    if payments:
        check_payment_provider(settings)
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    gateway = payment_gateway(settings, engine) if payments else _NoPayments()
    billing = subscription_billing(settings, engine) if payments else None
    return Runtime(
        engine=engine,
        clock=clock or default_clock(settings),
        settings=settings,
        gateway=gateway,
        mailer=mailer(settings),
        render_event=plain_payload if render_event is None else render_event(settings),
        billing=billing,
    )


def delivery_channels(rt: Runtime) -> tuple[Channel, ...]:
    """The channels every delivery loop of this instance runs (``seatledger serve``'s and
    ``seatledger worker``'s): each outbox event is fanned out to all of them. They take their
    settings (SMTP, webhook options) from the runtime when they send. With a provider that sends
    events (Stripe), its events are applied by the same loops."""
    channels = (emails.CHANNEL, webhook_deliveries.CHANNEL)
    if rt.billing is not None:
        return (
            *channels,
            provider_events.CHANNEL,
            provider_starts.CHANNEL,
            provider_seat_sync.CHANNEL,
        )
    if rt.gateway.name == "stripe":
        return (*channels, provider_events.CHANNEL)
    return channels
