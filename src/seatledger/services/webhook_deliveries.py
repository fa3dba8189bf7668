"""Webhook deliveries: the webhooks delivery channel (SPEC §10, ``services.channels``).

* ``fan_out`` (in the delivery loop's transaction): one ``pending`` delivery per enabled
  endpoint that hears the event (``domain.webhook.hears``), catalogued events only. An endpoint
  disabled when the event is fanned out never gets it: events are not kept for a disabled
  endpoint, only the deliveries it already had, which wait and go out once it is enabled.
* ``send_due``: the due pending deliveries of enabled endpoints are leased in one short
  transaction (``lease_expires_at`` = the wall clock + ``LEASE``; ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, the write lock on SQLite, so two workers never send one delivery at once), sent
  with no transaction open, at most ``PER_ENDPOINT`` at a time per endpoint and
  ``PER_ENDPOINT_ROUND`` per endpoint and round (a slow receiver holds up only its own), and
  their outcomes recorded ``WAVE`` at a time, one transaction per wave, each only while the
  lease is still its own.
* The lease fits the work: a send starts only while ``SEND_TIMEOUT`` + ``RECORD_MARGIN`` of the
  lease remain, so every send ends, and its outcome is recorded, before the lease runs out; a
  delivery not started by then is handed back (its lease cleared) for the next round. A worker
  killed in between leaves its leases to run out, ``LEASE`` at most: the deliveries are sent
  again then (at least once; receivers drop duplicates by ``webhook-id``).
* The outcome: a success clears the endpoint's ``failing_since``; a failure schedules the next
  attempt (``domain.webhook.after_failure``, by the runtime clock) and starts
  ``failing_since`` if unset; failing for ``DISABLE_AFTER`` disables the endpoint (logged).
* ``retry_delivery``: the merchant sends a pending or failed delivery now, whatever its
  schedule and even to a disabled endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from seatledger.adapters.db.paging import paginating
from seatledger.adapters.db.unit_of_work import UnitOfWork, current_hold
from seatledger.domain.errors import DeliveryNotRetryable, NotFound
from seatledger.domain.events import OutboxEvent
from seatledger.domain.ids import new_id
from seatledger.domain.webhook import (
    SEND_TIMEOUT,
    DeliveryStatus,
    DueDelivery,
    WebhookDelivery,
    after_failure,
    hears,
    should_disable,
)
from seatledger.observability import metrics
from seatledger.services.channels import Channel
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime
from seatledger.services.webhook_endpoints import private_allowed
from seatledger.services.webhook_sender import Sent

log = logging.getLogger("seatledger.webhooks")

BATCH = 1_000  # deliveries leased per round
PER_ENDPOINT = 4  # sent at once to one endpoint
PER_ENDPOINT_ROUND = 500  # leased per endpoint and round
WAVE = 100  # outcomes recorded per transaction
LEASE = timedelta(seconds=60)  # wall clock; a killed worker's deliveries go out again after it
RECORD_MARGIN = timedelta(seconds=20)  # of the lease left, after a send's timeout, to record it


@dataclass(frozen=True, slots=True)
class _Job:
    """A leased delivery and what sending it needs."""

    delivery_id: str
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]
    event_id: str
    body: str
    attempts: int
    lease: datetime

    @property
    def leased(self) -> tuple[str, datetime]:
        return (self.delivery_id, self.lease)


def _wall_now() -> datetime:
    return datetime.now(UTC)


async def fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    """One pending delivery of ``event`` per enabled endpoint that hears it (none twice)."""
    await fan_out_many(uow, rt, [event])


async def fan_out_many(uow: UnitOfWork, rt: Runtime, events: Sequence[OutboxEvent]) -> None:
    """``fan_out`` for a batch of events, in three statements."""
    events = [event for event in events if event.catalogued]
    if not events:
        return
    endpoints = await uow.webhook_endpoints.hearing()
    if not endpoints:
        return
    had = await uow.webhook_deliveries.pairs([event.id for event in events])
    now = rt.clock.now()
    await uow.webhook_deliveries.add_pending(
        [
            {
                "id": new_id("whd"),
                "endpoint_id": endpoint_id,
                "event_id": event.id,
                "event_type": event.type,
                "next_attempt_at": now,
                "created_at": now,
            }
            for event in events
            for endpoint_id, event_types in endpoints
            if (event.id, endpoint_id) not in had and hears(event_types, event.type)
        ]
    )


def _job(due: DueDelivery, lease: datetime, now: datetime) -> _Job:
    return _Job(
        delivery_id=due.delivery_id,
        endpoint_id=due.endpoint_id,
        url=due.url,
        secrets=due.signing_secrets(now),
        event_id=due.event.id,
        body=json.dumps(due.event.document(), separators=(",", ":"), ensure_ascii=False),
        attempts=due.attempts,
        lease=lease,
    )


async def _lease_due(rt: Runtime) -> list[_Job]:
    now, wall = rt.clock.now(), _wall_now()
    lease = wall + LEASE
    async with rt.transaction() as uow:
        per_endpoint: dict[str, int] = defaultdict(int)
        taken = []
        for due in await uow.webhook_deliveries.due(now, wall, BATCH):
            per_endpoint[due.endpoint_id] += 1
            if per_endpoint[due.endpoint_id] <= PER_ENDPOINT_ROUND:
                taken.append(due)
        await uow.webhook_deliveries.lease([due.delivery_id for due in taken], lease)
        await uow.commit()
    return [_job(due, lease, now) for due in taken]


async def _endpoint_outcome(uow: UnitOfWork, endpoint_id: str, ok: bool, now: datetime) -> None:
    endpoints = uow.webhook_endpoints
    if ok:
        await endpoints.succeeded(endpoint_id)
        return
    found = await endpoints.failing(endpoint_id)
    if found is None:
        return
    failing_since, enabled = found
    since = failing_since or now
    values: dict[str, object] = {"failing_since": since}
    if enabled and should_disable(since, now):
        values["disabled_at"] = now
        metrics.webhook_endpoint_disabled()
        log.warning(
            "webhook endpoint %s disabled: every delivery has failed since %s",
            endpoint_id,
            since.isoformat(),
        )
    await endpoints.update(endpoint_id, **values)


def _start_by(lease: datetime) -> datetime:
    """The wall-clock time after which a send under ``lease`` may no longer start."""
    return lease - RECORD_MARGIN - timedelta(seconds=SEND_TIMEOUT)


async def _attempt(rt: Runtime, job: _Job) -> Sent | None:
    """Send ``job``'s webhook, or None when its lease is too near its end to start it."""
    if _wall_now() >= _start_by(job.lease):
        return None
    sent = await rt.webhook_sender.send(
        job.url,
        event_id=job.event_id,
        body=job.body,
        secrets=job.secrets,
        pinned=not private_allowed(rt.settings),
    )
    metrics.webhook_sent(ok=sent.ok)
    return sent


async def _record_failure(uow: UnitOfWork, job: _Job, sent: Sent, now: datetime) -> bool:
    status, next_at = after_failure(job.attempts + 1, now)
    return await uow.webhook_deliveries.record_failure(
        job.leased,
        status=status,
        attempts=job.attempts + 1,
        response_status=sent.status,
        error=sent.error,
        next_attempt_at=next_at,
        now=now,
    )


async def _record(rt: Runtime, endpoint_id: str, wave: Sequence[tuple[_Job, Sent | None]]) -> None:
    """A wave of one endpoint's outcomes in one transaction, each only if its lease is still
    this attempt's (else the lease ran out and another took the delivery: its outcome counts).
    Deliveries not sent (``None``) are handed back."""
    now = rt.clock.now()
    succeeded: dict[int | None, list[_Job]] = defaultdict(list)
    failed, unsent = [], []
    for job, sent in wave:
        if sent is None:
            unsent.append(job)
        elif sent.ok:
            succeeded[sent.status].append(job)
        else:
            failed.append((job, sent))
    async with rt.transaction() as uow:
        await uow.webhook_deliveries.hand_back([job.leased for job in unsent])
        any_failed = any_succeeded = False
        for job, sent in failed:
            any_failed |= await _record_failure(uow, job, sent, now)
        for code, jobs in succeeded.items():
            any_succeeded |= await uow.webhook_deliveries.record_successes(
                [job.leased for job in jobs], code, now
            )
        if any_succeeded or any_failed:
            # One success is enough to show the endpoint is not failing every delivery.
            await _endpoint_outcome(uow, endpoint_id, any_succeeded, now)
        await uow.commit()


async def _send_to_endpoint(rt: Runtime, endpoint_id: str, jobs: Sequence[_Job]) -> None:
    gate = asyncio.Semaphore(PER_ENDPOINT)
    done: list[tuple[_Job, Sent | None]] = []

    async def record(wave: list[tuple[_Job, Sent | None]]) -> None:
        try:
            await _record(rt, endpoint_id, wave)
        except Exception:
            # Their leases will run out and the deliveries be sent again.
            log.error("%d webhook deliveries not recorded", len(wave), exc_info=True)

    async def one(job: _Job) -> None:
        async with gate:
            sent = await _attempt(rt, job)
        done.append((job, sent))
        if len(done) >= WAVE:
            wave = done[:]
            done.clear()
            await record(wave)

    await asyncio.gather(*(one(job) for job in jobs))
    if done:
        await record(done)


async def send_due(rt: Runtime) -> int:
    """Send the deliveries that are due (module docstring); answers how many were attempted."""
    jobs = await _lease_due(rt)
    by_endpoint: dict[str, list[_Job]] = defaultdict(list)
    for job in jobs:
        by_endpoint[job.endpoint_id].append(job)
    await asyncio.gather(*(_send_to_endpoint(rt, key, group) for key, group in by_endpoint.items()))
    return len(jobs)


CHANNEL = Channel("webhooks", fan_out, send_due, fan_out_many)


async def _check_endpoint(uow: UnitOfWork, endpoint_id: str) -> None:
    if not await uow.webhook_endpoints.exists(endpoint_id):
        raise NotFound("webhook endpoint")


async def list_deliveries(
    rt: Runtime,
    endpoint_id: str,
    *,
    status: DeliveryStatus | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[WebhookDelivery]:
    """An endpoint's deliveries, newest first; ``status`` keeps those in it."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        await _check_endpoint(uow, endpoint_id)
        deliveries = await uow.webhook_deliveries.page(
            endpoint_id,
            paginating(cursor, size, newest_first=True),
            status=status,
        )
    return page_of(deliveries, [d.id for d in deliveries], size)


async def _load_delivery(uow: UnitOfWork, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    await _check_endpoint(uow, endpoint_id)
    found = await uow.webhook_deliveries.get(endpoint_id, delivery_id)
    if found is None:
        raise NotFound("webhook delivery")
    return found


async def _lease_one(rt: Runtime, endpoint_id: str, delivery_id: str) -> _Job:
    now, wall = rt.clock.now(), _wall_now()
    lease = wall + LEASE
    async with rt.transaction() as uow:
        await _load_delivery(uow, endpoint_id, delivery_id)
        due = await uow.webhook_deliveries.due_one(delivery_id)
        if due is None:  # its event is no longer in the outbox
            raise NotFound("webhook delivery")
        if due.status == "succeeded":
            raise DeliveryNotRetryable()
        if due.lease_expires_at is not None and due.lease_expires_at > wall:
            raise DeliveryNotRetryable("This delivery is being sent right now.")
        await uow.webhook_deliveries.lease([delivery_id], lease)
        await uow.commit()
    return _job(due, lease, now)


async def retry_delivery(rt: Runtime, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a pending or failed delivery now; answers it after the attempt. A failed one that
    fails again stays failed; a pending one's failure counts in its schedule."""
    job = await _lease_one(rt, endpoint_id, delivery_id)
    held = current_hold()
    if held is not None:
        await held.checkpoint()  # nothing waits on the receiver with a transaction open
    sent = await _attempt(rt, job)
    await _record(rt, job.endpoint_id, [(job, sent)])
    async with rt.reading() as uow:
        return await _load_delivery(uow, endpoint_id, delivery_id)


__all__ = [
    "CHANNEL",
    "WebhookDelivery",
    "fan_out",
    "fan_out_many",
    "list_deliveries",
    "retry_delivery",
    "send_due",
]
