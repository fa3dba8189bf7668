"""One use case, one transaction: opened here, committed explicitly, rolled back by default.

Events emitted during the use case are written to the outbox in the same transaction, in one
batched insert at commit: they leave only if the change itself is kept.

Held commits. A request that must record something *with* its work (its idempotency key and
its answer, ``seatledger.services.idempotency``) runs its use case inside ``holding(...)``:

    unit of work commits ──▶ held (still open) ──▶ the request writes its record ──▶ commit
                                   │
                                   └──checkpoint (before a payment provider is called)──▶
                                      the record's recovery point is written, then commit

* The first unit of work that commits hands its open transaction to the hold instead of
  committing; units of work opened afterwards in the same request join it, each in a savepoint
  (their commit releases it, leaving without commit rolls it back), so they read what the use
  case wrote and their writes are kept or lost with it.
* ``HeldTransaction.checkpoint`` commits what is held at once (nothing may wait on a payment
  provider with a transaction open: a lease taken before a charge must be visible to others),
  after the holder wrote its recovery point into it.
* Without ``holding``, nothing changes: a commit commits.

Reading. A unit of work made with ``readonly=True`` (``Runtime.reading``) only reads: on SQLite
its transaction begins ``DEFERRED`` (no write lock), on PostgreSQL it runs without a transaction
(``seatledger.adapters.db.engine.reading_options``: no ``BEGIN``, no ``COMMIT``, no
``ROLLBACK``). It has nothing to commit and may emit no event. Inside a hold it joins the held
transaction like any other, to read what the request wrote.

One statement. A unit of work made with ``alone=True`` (``Runtime.statement``) runs exactly one
statement that writes everything the use case changes, its outbox rows included (an assignment
on PostgreSQL, ``Seats.assign``). PostgreSQL makes a lone statement atomic by itself, so it runs
in autocommit: no ``BEGIN`` and no ``COMMIT`` round trip, and a crash leaves all of it or none.
``emit`` is refused (the statement writes its events itself); inside a hold it joins the held
transaction like any other; on SQLite it is an ordinary transaction.

Usage changes. ``emit`` notes the company of each event that changes seat usage or a seat limit
(``USAGE_EVENTS``); ``commit`` hands them to ``usage_changed`` (the runtime's seat alerts)
before it writes the events, so that what it emits is written with them. A statement of one
unit of work (``alone``) emits nothing and is not used for a company with seat alerts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar, cast

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncTransaction

from seatledger.adapters.db.api_keys import ApiKeys
from seatledger.adapters.db.backlog import DeliveryBacklog
from seatledger.adapters.db.catalog import Catalog
from seatledger.adapters.db.change_charges import ChangeCharges
from seatledger.adapters.db.checkouts import Checkouts
from seatledger.adapters.db.claiming import Claims
from seatledger.adapters.db.companies import Companies, Members
from seatledger.adapters.db.credit import CreditBalances
from seatledger.adapters.db.customer_sessions import CustomerSessions
from seatledger.adapters.db.dashboard_users import DashboardUsers
from seatledger.adapters.db.email_facts import EmailFacts
from seatledger.adapters.db.emails import Emails
from seatledger.adapters.db.engine import autocommit, reading_options
from seatledger.adapters.db.entitlements import LivePools
from seatledger.adapters.db.grants import Grants
from seatledger.adapters.db.idempotency_keys import IdempotencyKeys
from seatledger.adapters.db.instance import SandboxClockRow
from seatledger.adapters.db.invoices import Invoices
from seatledger.adapters.db.metrics import Metrics
from seatledger.adapters.db.outbox import Outbox
from seatledger.adapters.db.payments import Payments
from seatledger.adapters.db.pending_lines import PendingLines
from seatledger.adapters.db.provider_billing import ProviderQueue
from seatledger.adapters.db.provider_events import HostedPages, ProviderInbox
from seatledger.adapters.db.provider_invoices import ProviderInvoices
from seatledger.adapters.db.purchases import Orders
from seatledger.adapters.db.revoking import Revocations
from seatledger.adapters.db.seat_alerts import SeatAlerts
from seatledger.adapters.db.seat_pools import SeatPools
from seatledger.adapters.db.seats import Seats
from seatledger.adapters.db.subscriptions import Subscriptions
from seatledger.adapters.db.tables import outbox
from seatledger.adapters.db.true_ups import TrueUps
from seatledger.adapters.db.webhooks import WebhookDeliveries, WebhookEndpoints
from seatledger.domain.events import EventRenderer, EventType, plain_payload
from seatledger.domain.ids import new_id

# The connection a request holds past its units of work's commits (named here so that the
# services that hold one need not import the database toolkit).
HeldConnection = AsyncConnection
Checkpoint = Callable[[AsyncConnection | None], Awaitable[None]]
R = TypeVar("R")
# Called at commit, before the events are written, with the companies whose seat usage or seat
# limit the use case's events say changed: the seat alerts (``seatledger.services.usage_alerts``)
# are evaluated there, in the transaction that changed them. A claim changes neither (``used``
# counts pending and claimed seats alike).
UsageChanged = Callable[["UnitOfWork", frozenset[str]], Awaitable[None]]
USAGE_EVENTS = frozenset(
    {
        EventType.SEAT_ASSIGNED,
        EventType.SEAT_REVOKED,
        EventType.SUBSCRIPTION_CREATED,
        EventType.SUBSCRIPTION_UPDATED,
        EventType.SUBSCRIPTION_RENEWED,
        EventType.SUBSCRIPTION_CANCELED,
        EventType.ORDER_PAID,
    }
)


class HeldTransaction:
    """The transaction a request holds past its units of work's commits (module docstring).

    ``checkpoint(connection)`` is the holder's: called with the held connection (or None when
    nothing is held) just before ``checkpoint()`` commits it, to write what must survive."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self._checkpoint = checkpoint
        self.connection: AsyncConnection | None = None
        self.joined = 0  # units of work open on the held connection right now

    async def checkpoint(self) -> None:
        """Commit what is held now, with the holder's recovery point written in it. Inside a
        unit of work that joined the held transaction this waits for the final commit."""
        if self.joined:
            return
        connection, self.connection = self.connection, None
        try:
            await self._checkpoint(connection)
            if connection is not None:
                await connection.commit()
        finally:
            if connection is not None:
                await connection.close()

    async def commit(self) -> None:
        """Commit what is held (the holder has written its record into it)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                await connection.commit()
            finally:
                await connection.close()

    async def rollback(self) -> None:
        """Give up what is held: none of the use case's held work is kept."""
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                if connection.in_transaction():
                    await connection.rollback()
            finally:
                await connection.close()


_held: ContextVar[HeldTransaction | None] = ContextVar("seatledger_held", default=None)


@contextmanager
def holding(held: HeldTransaction) -> Iterator[HeldTransaction]:
    """Units of work opened inside hand their commit to ``held`` (module docstring). The
    caller finishes it: ``commit``, ``rollback`` (a transaction still held when it leaves is
    the caller's to roll back)."""
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def current_hold() -> HeldTransaction | None:
    """The hold of the request running now, if any."""
    return _held.get()


class UnitOfWork:
    def __init__(
        self,
        engine: AsyncEngine,
        now: Callable[[], datetime],
        *,
        readonly: bool = False,
        alone: bool = False,
        render: EventRenderer = plain_payload,
        usage_changed: UsageChanged | None = None,
    ) -> None:
        self._engine = engine
        self._now = now
        self._render = render
        self.readonly = readonly
        self._alone = alone
        self._autocommit = False  # alone, on PostgreSQL, outside a hold: the statement commits
        self._connection: AsyncConnection | None = None
        self._savepoint: AsyncTransaction | None = None
        self._held: HeldTransaction | None = None
        self._handed = False  # its transaction went to the request's hold at commit
        self._events: list[dict[str, Any]] = []
        self._usage_changed = usage_changed
        self._touched: set[str] = set()  # companies whose usage or limit an event changed
        # Repositories built on first use, once per opening (they hold its connection).
        self._repositories: dict[object, object] = {}
        self.committed = False

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("the unit of work is not open")
        return self._connection

    def _repository(self, kind: Callable[[AsyncConnection], R]) -> R:
        """The unit of work's one ``kind`` repository, on its connection."""
        found = self._repositories.get(kind)
        if found is None:
            found = self._repositories[kind] = kind(self.connection)
        return cast(R, found)

    @property
    def pools(self) -> SeatPools:
        """The seat pools, read and written in this unit of work."""
        return self._repository(SeatPools)

    @property
    def seat_alerts(self) -> SeatAlerts:
        """A company's seat-usage thresholds and their state."""
        return self._repository(SeatAlerts)

    @property
    def seats(self) -> Seats:
        """The seats, read and written in this unit of work."""
        return self._repository(Seats)

    @property
    def claims(self) -> Claims:
        """Claims in two statements (PostgreSQL: ``seatledger.adapters.db.claiming``)."""
        return self._repository(Claims)

    @property
    def revocations(self) -> Revocations:
        """Revocations in two statements (PostgreSQL: ``seatledger.adapters.db.revoking``)."""
        return self._repository(Revocations)

    @property
    def subscriptions(self) -> Subscriptions:
        return self._repository(Subscriptions)

    @property
    def orders(self) -> Orders:
        return self._repository(Orders)

    @property
    def checkouts(self) -> Checkouts:
        return self._repository(Checkouts)

    @property
    def change_charges(self) -> ChangeCharges:
        return self._repository(ChangeCharges)

    @property
    def invoices(self) -> Invoices:
        return self._repository(Invoices)

    @property
    def pending_lines(self) -> PendingLines:
        return self._repository(PendingLines)

    @property
    def true_ups(self) -> TrueUps:
        return self._repository(TrueUps)

    @property
    def payments(self) -> Payments:
        return self._repository(Payments)

    @property
    def catalog(self) -> Catalog:
        return self._repository(Catalog)

    @property
    def companies(self) -> Companies:
        return self._repository(Companies)

    @property
    def members(self) -> Members:
        return self._repository(Members)

    @property
    def credit(self) -> CreditBalances:
        return self._repository(CreditBalances)

    @property
    def sandbox_clock(self) -> SandboxClockRow:
        return self._repository(SandboxClockRow)

    @property
    def idempotency_keys(self) -> IdempotencyKeys:
        return self._repository(IdempotencyKeys)

    @property
    def customer_sessions(self) -> CustomerSessions:
        return self._repository(CustomerSessions)

    @property
    def api_keys(self) -> ApiKeys:
        return self._repository(ApiKeys)

    @property
    def outbox(self) -> Outbox:
        return self._repository(Outbox)

    @property
    def grants(self) -> Grants:
        return self._repository(Grants)

    @property
    def emails(self) -> Emails:
        return self._repository(Emails)

    @property
    def email_facts(self) -> EmailFacts:
        """What emails say that their events do not (read by the delivery loop)."""
        return self._repository(EmailFacts)

    @property
    def webhook_endpoints(self) -> WebhookEndpoints:
        return self._repository(WebhookEndpoints)

    @property
    def webhook_deliveries(self) -> WebhookDeliveries:
        return self._repository(WebhookDeliveries)

    @property
    def live_pools(self) -> LivePools:
        """A company's live pools with their counts (entitlements, seat alerts)."""
        return self._repository(LivePools)

    @property
    def dashboard_users(self) -> DashboardUsers:
        return self._repository(DashboardUsers)

    @property
    def metrics(self) -> Metrics:
        """What the dashboard's charts are drawn from."""
        return self._repository(Metrics)

    @property
    def backlog(self) -> DeliveryBacklog:
        """What waits to be delivered (``/metrics``)."""
        return self._repository(DeliveryBacklog)

    @property
    def provider_inbox(self) -> ProviderInbox:
        """The payment provider's events, kept until applied."""
        return self._repository(ProviderInbox)

    @property
    def provider_queue(self) -> ProviderQueue:
        """The pushes and starts the provider is to be told of (``billing`` mode)."""
        return self._repository(ProviderQueue)

    @property
    def provider_invoices(self) -> ProviderInvoices:
        """The provider's invoices as mirrored here (``billing`` mode)."""
        return self._repository(ProviderInvoices)

    @property
    def hosted_pages(self) -> HostedPages:
        """Checkouts' pages at the provider."""
        return self._repository(HostedPages)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    async def __aenter__(self) -> UnitOfWork:
        held = _held.get()
        if held is not None and held.connection is not None:
            # Join the request's held transaction: read what it wrote, keep or lose with it.
            self._connection = held.connection
            self._savepoint = await held.connection.begin_nested()
            self._held = held
            held.joined += 1
            return self
        self._connection = await self._engine.connect()
        if self.readonly:
            await reading_options(self._connection)
        elif self._alone and self.dialect == "postgresql" and held is None:
            await autocommit(self._connection)
            self._autocommit = True
            return self
        await self._connection.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        self._repositories.clear()
        if connection is None or self._handed:
            return
        if self._held is not None:
            self._held.joined -= 1
            self._held = None
            savepoint, self._savepoint = self._savepoint, None
            if savepoint is not None and savepoint.is_active:
                await savepoint.rollback()
            return
        try:
            if connection.in_transaction():
                await connection.rollback()
        finally:
            await connection.close()

    def now(self) -> datetime:
        """The runtime clock's instant."""
        return self._now()

    def emit(self, event_type: str, subject: object) -> None:
        """Record an event; it reaches the outbox only if this unit of work commits.

        ``subject`` is the domain object a catalogued event is about (a seat, a subscription,
        …), serialised here, once, by the runtime's renderer (``seatledger.domain.events``):
        what it is now is what the event says, whatever the use case does next. An internal
        record (``invitation.email``, ``product.created``) passes a plain dict, kept as it is.
        """
        if self._alone:
            raise RuntimeError("a unit of work of one statement writes its events itself")
        self._events.append(self.event_row(event_type, subject))
        company_id = getattr(subject, "company_id", None)
        if event_type in USAGE_EVENTS and isinstance(company_id, str):
            self._touched.add(company_id)

    def event_row(self, event_type: str, subject: object) -> dict[str, Any]:
        """The outbox row ``emit`` records, for a statement that writes it itself (an
        assignment in one statement, ``Seats.assign``): it is written only if that statement
        is, and kept only if this unit of work commits."""
        if self.readonly:
            raise RuntimeError("a unit of work that reads emits no event")
        payload = subject if isinstance(subject, dict) else self._render(event_type, subject)
        return {
            "event_id": new_id("evt"),
            "type": event_type,
            "payload": payload,
            "created_at": self._now(),
        }

    async def commit(self) -> None:
        if self.readonly:
            raise RuntimeError("a unit of work that reads has nothing to commit")
        if self._touched and self._usage_changed is not None:
            touched, self._touched = frozenset(self._touched), set()
            await self._usage_changed(self, touched)
        if self._events:
            await self.connection.execute(insert(outbox), self._events)
            self._events = []
        self.committed = True
        if self._autocommit:
            return  # its one statement committed itself
        if self._savepoint is not None:
            savepoint, self._savepoint = self._savepoint, None
            await savepoint.commit()
            return
        held = _held.get()
        if held is not None and held.connection is None:
            # The request commits it, once its record is written in it.
            held.connection = self.connection
            self._handed = True
            return
        await self.connection.commit()


__all__ = [
    "USAGE_EVENTS",
    "HeldConnection",
    "HeldTransaction",
    "UnitOfWork",
    "UsageChanged",
    "current_hold",
    "holding",
]
