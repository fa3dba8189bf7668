"""What every use case needs: the database, the clock, the settings, the payment gateway, the
mailer and the webhooks' HTTP client."""

from __future__ import annotations

from dataclasses import dataclass, field

from cachetools import TTLCache

from seatledger import faults
from seatledger.adapters.db.engine import Database
from seatledger.adapters.db.unit_of_work import UnitOfWork, current_hold
from seatledger.config import Settings
from seatledger.domain.api_key import ApiKey
from seatledger.domain.clock import Clock
from seatledger.domain.events import EventRenderer, plain_payload
from seatledger.domain.mail import Mailer
from seatledger.domain.payments import PaymentGateway, PaymentRequest, PaymentResult
from seatledger.domain.provider_billing import SubscriptionBilling
from seatledger.observability import metrics
from seatledger.services.usage_alerts import usage_changed
from seatledger.services.webhook_sender import WebhookSender

# The API keys a runtime trusts without a look-up (``seatledger.services.api_keys``).
API_KEY_CACHE_SIZE = 10_000
API_KEY_CACHE_TTL = 5.0  # seconds


def _api_key_cache() -> TTLCache[str, ApiKey]:
    return TTLCache(maxsize=API_KEY_CACHE_SIZE, ttl=API_KEY_CACHE_TTL)


@dataclass
class Runtime:
    engine: Database
    clock: Clock
    settings: Settings
    gateway: PaymentGateway
    # key hash → ``ApiKey``: the keys found valid within the last ``API_KEY_CACHE_TTL``
    api_keys: TTLCache[str, ApiKey] = field(default_factory=_api_key_cache, repr=False)
    # Sends emails; None (no ``SEATLEDGER_SMTP_URL``): emails are kept ``held``, never sent.
    mailer: Mailer | None = None
    # The one HTTP client outgoing webhooks go through (``seatledger.services.webhook_sender``).
    webhook_sender: WebhookSender = field(default_factory=WebhookSender, repr=False)
    # Serialises the object of each catalogued event, once, when it is emitted: the API's
    # renderer (``seatledger.api.event_rendering``) in every process the composition roots
    # build, so an event's ``data`` is the object as the API answers it. The default renders
    # the object's own fields (``seatledger.domain.events.plain_payload``).
    render_event: EventRenderer = field(default=plain_payload, repr=False)
    # ``SEATLEDGER_STRIPE_MODE=billing``: the provider that bills subscriptions (SPEC §7).
    billing: SubscriptionBilling | None = field(default=None, repr=False)

    def transaction(self) -> UnitOfWork:
        """A new unit of work: ``async with rt.transaction() as uow: ...; await uow.commit()``."""
        return UnitOfWork(
            self.engine, self.clock.now, render=self.render_event, usage_changed=usage_changed
        )

    def statement(self) -> UnitOfWork:
        """A unit of work of one statement that writes everything, its events included (on
        PostgreSQL without ``BEGIN``/``COMMIT``: ``seatledger.adapters.db.unit_of_work``)."""
        return UnitOfWork(self.engine, self.clock.now, alone=True, render=self.render_event)

    def reading(self) -> UnitOfWork:
        """A unit of work that only reads: ``async with rt.reading() as uow: ...`` (no commit;
        see ``seatledger.adapters.db.unit_of_work``)."""
        return UnitOfWork(self.engine, self.clock.now, readonly=True)

    async def charge(self, request: PaymentRequest) -> PaymentResult:
        """Ask the payment provider for a charge: the one way use cases reach it.

        No transaction waits on the provider: a commit a keyed request holds
        (``seatledger.adapters.db.unit_of_work``) is made first, with the request's recovery
        point. Call it with no unit of work open."""
        held = current_hold()
        if held is not None:
            await held.checkpoint()
        result = await self.gateway.charge(request)
        faults.reached("charged")
        if not result.succeeded:
            metrics.payment_declined(self.gateway.name)
        return result
