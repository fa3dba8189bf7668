"""Wiring: settings in, a ready ``Runtime`` out. The one place that picks concrete adapters."""

from __future__ import annotations

from seatledger.adapters.db.engine import create_engine
from seatledger.adapters.payments.local import LocalGateway
from seatledger.config import Settings
from seatledger.domain.clock import Clock, SandboxClock, SystemClock
from seatledger.domain.payments import PaymentGateway
from seatledger.services.runtime import Runtime
from seatledger.services.sandbox import load_sandbox_time


def payment_gateway(settings: Settings) -> PaymentGateway:
    if settings.payment_provider == "local":
        return LocalGateway()
    raise ValueError(
        f"SEATLEDGER_PAYMENT_PROVIDER={settings.payment_provider!r} is not available: use 'local'"
    )


def default_clock(settings: Settings) -> Clock:
    """The system clock; in sandbox mode the shared sandbox clock, loaded from its row now
    (``seatledger.services.sandbox`` says how processes keep in step)."""
    if settings.sandbox:
        return SandboxClock(load_sandbox_time(settings.database_url))
    return SystemClock()


def build_runtime(settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
    settings = settings or Settings.from_env()
    return Runtime(
        engine=create_engine(settings.database_url),
        clock=clock or default_clock(settings),
        settings=settings,
        gateway=payment_gateway(settings),
    )
