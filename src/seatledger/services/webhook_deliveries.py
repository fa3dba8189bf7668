"""Webhook deliveries: the webhooks delivery channel (SPEC §10, ``services.channels``).

* ``fan_out`` (in the delivery loop's transaction): one ``pending`` delivery per enabled
  endpoint that hears the event (``domain.webhook.hears``), catalogued events only. An endpoint
  disabled when the event is fanned out never gets it: events are not kept for a disabled
  endpoint, only the deliveries it already had, which wait and go out once it is enabled.
* ``send_due``: the due pending deliveries of enabled endpoints are leased in one short
  transaction (``lease_expires_at`` by the wall clock; ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, the write lock on SQLite, so two workers never send one delivery at once), sent
  with no transaction open, at most ``PER_ENDPOINT`` at a time per endpoint and
  ``PER_ENDPOINT_ROUND`` per endpoint and round (a slow receiver holds up only its own), and
  each outcome is recorded in a transaction of its own, only while the lease is still its own.
  A crash in between leaves the lease to expire: the delivery is sent again (at least once;
  receivers drop duplicates by ``webhook-id``).
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
from typing import Any

from sqlalchemy import Select, insert, or_, select, update

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.unit_of_work import UnitOfWork, current_hold
from seatledger.domain.errors import DeliveryNotRetryable, NotFound
from seatledger.domain.events import OutboxEvent
from seatledger.domain.ids import new_id
from seatledger.domain.webhook import DeliveryStatus, after_failure, hears, should_disable
from seatledger.services.channels import Channel
from seatledger.services.pages import Page, check_limit, page_of, paginate
from seatledger.services.runtime import Runtime
from seatledger.services.webhook_endpoints import private_allowed
from seatledger.services.webhook_sender import Sent

log = logging.getLogger("seatledger.webhooks")

BATCH = 100  # deliveries leased per round
PER_ENDPOINT = 4  # sent at once to one endpoint
PER_ENDPOINT_ROUND = 20  # leased per endpoint and round: 5 waves of at most 10 s each
LEASE = timedelta(minutes=5)  # wall clock: longer than a round's sending to one endpoint

_D = t.webhook_deliveries
_E = t.webhook_endpoints
_O = t.outbox


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None


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


def _wall_now() -> datetime:
    return datetime.now(UTC)


async def fan_out(uow: UnitOfWork, rt: Runtime, event: OutboxEvent) -> None:
    """One pending delivery of ``event`` per enabled endpoint that hears it (none twice)."""
    if not event.catalogued:
        return
    endpoints = await uow.connection.execute(
        select(_E.c.id, _E.c.event_types).where(_E.c.disabled_at.is_(None))
    )
    had = set(
        (await uow.connection.execute(select(_D.c.endpoint_id).where(_D.c.event_id == event.id)))
        .scalars()
        .all()
    )
    now = rt.clock.now()
    rows = [
        {
            "id": new_id("whd"),
            "endpoint_id": endpoint.id,
            "event_id": event.id,
            "event_type": event.type,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for endpoint in endpoints
        if endpoint.id not in had and hears(endpoint.event_types, event.type)
    ]
    if rows:
        await uow.connection.execute(insert(_D), rows)


def _jobs_query() -> Select[Any]:
    return select(
        _D.c.id,
        _D.c.endpoint_id,
        _D.c.attempts,
        _D.c.status,
        _D.c.lease_expires_at,
        _E.c.url,
        _E.c.secret,
        _E.c.previous_secret,
        _E.c.previous_secret_expires_at,
        _O.c.event_id,
        _O.c.type,
        _O.c.payload,
        _O.c.created_at,
    ).select_from(_D.join(_E, _E.c.id == _D.c.endpoint_id).join(_O, _O.c.event_id == _D.c.event_id))


def _job(row: Any, lease: datetime, now: datetime) -> _Job:
    secrets = [row.secret]
    if row.previous_secret and row.previous_secret_expires_at > now:
        secrets.append(row.previous_secret)  # still signing during a rotation
    event = OutboxEvent(row.event_id, row.type, row.created_at, row.payload)
    return _Job(
        delivery_id=row.id,
        endpoint_id=row.endpoint_id,
        url=row.url,
        secrets=tuple(secrets),
        event_id=row.event_id,
        body=json.dumps(event.document(), separators=(",", ":"), ensure_ascii=False),
        attempts=row.attempts,
        lease=lease,
    )


async def _lease_due(rt: Runtime) -> list[_Job]:
    now, wall = rt.clock.now(), _wall_now()
    lease = wall + LEASE
    async with rt.transaction() as uow:
        query = (
            _jobs_query()
            .where(
                _D.c.status == "pending",
                _D.c.next_attempt_at <= now,
                _E.c.disabled_at.is_(None),
                or_(_D.c.lease_expires_at.is_(None), _D.c.lease_expires_at <= wall),
            )
            .order_by(_D.c.next_attempt_at, _D.c.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=_D)
        )
        per_endpoint: dict[str, int] = defaultdict(int)
        taken = []
        for row in (await uow.connection.execute(query)).all():
            per_endpoint[row.endpoint_id] += 1
            if per_endpoint[row.endpoint_id] <= PER_ENDPOINT_ROUND:
                taken.append(row)
        if taken:
            ids = [row.id for row in taken]
            await uow.connection.execute(
                update(_D).where(_D.c.id.in_(ids)).values(lease_expires_at=lease)
            )
        await uow.commit()
    return [_job(row, lease, now) for row in taken]


async def _endpoint_outcome(uow: UnitOfWork, endpoint_id: str, ok: bool, now: datetime) -> None:
    if ok:
        await uow.connection.execute(
            update(_E)
            .where(_E.c.id == endpoint_id, _E.c.failing_since.is_not(None))
            .values(failing_since=None)
        )
        return
    query = select(_E.c.failing_since, _E.c.disabled_at).where(_E.c.id == endpoint_id)
    row = (await uow.connection.execute(query.with_for_update())).first()
    if row is None:
        return
    since = row.failing_since or now
    values: dict[str, Any] = {"failing_since": since}
    if row.disabled_at is None and should_disable(since, now):
        values["disabled_at"] = now
        log.warning(
            "webhook endpoint %s disabled: every delivery has failed since %s",
            endpoint_id,
            since.isoformat(),
        )
    await uow.connection.execute(update(_E).where(_E.c.id == endpoint_id).values(**values))


async def _record(rt: Runtime, job: _Job, sent: Sent) -> None:
    """The attempt's outcome, if the lease is still this attempt's."""
    now = rt.clock.now()
    attempts = job.attempts + 1
    status: DeliveryStatus
    status, next_at = ("succeeded", None) if sent.ok else after_failure(attempts, now)
    async with rt.transaction() as uow:
        recorded = await uow.connection.execute(
            update(_D)
            .where(_D.c.id == job.delivery_id, _D.c.lease_expires_at == job.lease)
            .values(
                status=status,
                attempts=attempts,
                response_status=sent.status,
                last_error=sent.error,
                next_attempt_at=next_at,
                last_attempt_at=now,
                lease_expires_at=None,
            )
        )
        if recorded.rowcount == 0:
            return  # the lease ran out and another took the delivery: its outcome counts
        await _endpoint_outcome(uow, job.endpoint_id, sent.ok, now)
        await uow.commit()


async def _send(rt: Runtime, job: _Job) -> None:
    sent = await rt.webhook_sender.send(
        job.url,
        event_id=job.event_id,
        body=job.body,
        secrets=job.secrets,
        pinned=not private_allowed(rt.settings),
    )
    await _record(rt, job, sent)


async def _send_to_endpoint(rt: Runtime, jobs: Sequence[_Job]) -> None:
    gate = asyncio.Semaphore(PER_ENDPOINT)

    async def one(job: _Job) -> None:
        async with gate:
            await _send(rt, job)

    outcomes = await asyncio.gather(*(one(job) for job in jobs), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            # Its lease will run out and the delivery be sent again.
            log.error("webhook delivery not recorded", exc_info=outcome)


async def send_due(rt: Runtime) -> int:
    """Send the deliveries that are due (module docstring); answers how many were attempted."""
    jobs = await _lease_due(rt)
    by_endpoint: dict[str, list[_Job]] = defaultdict(list)
    for job in jobs:
        by_endpoint[job.endpoint_id].append(job)
    await asyncio.gather(*(_send_to_endpoint(rt, group) for group in by_endpoint.values()))
    return len(jobs)


CHANNEL = Channel("webhooks", fan_out, send_due)


def _delivery_from_row(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        response_status=row.response_status,
        last_error=row.last_error,
        next_attempt_at=row.next_attempt_at,
    )


async def _check_endpoint(uow: UnitOfWork, endpoint_id: str) -> None:
    found = await uow.connection.scalar(select(_E.c.id).where(_E.c.id == endpoint_id))
    if found is None:
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
        query = select(_D).where(_D.c.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(_D.c.status == status)
        query = paginate(query, _D.c.id, cursor, size, newest_first=True)
        rows = (await uow.connection.execute(query)).all()
    return page_of([_delivery_from_row(row) for row in rows], [row.id for row in rows], size)


async def _load_delivery(uow: UnitOfWork, endpoint_id: str, delivery_id: str) -> Any:
    await _check_endpoint(uow, endpoint_id)
    query = select(_D).where(_D.c.id == delivery_id, _D.c.endpoint_id == endpoint_id)
    row = (await uow.connection.execute(query)).first()
    if row is None:
        raise NotFound("webhook delivery")
    return row


async def _lease_one(rt: Runtime, endpoint_id: str, delivery_id: str) -> _Job:
    now, wall = rt.clock.now(), _wall_now()
    lease = wall + LEASE
    async with rt.transaction() as uow:
        await _load_delivery(uow, endpoint_id, delivery_id)
        query = _jobs_query().where(_D.c.id == delivery_id).with_for_update(of=_D)
        row = (await uow.connection.execute(query)).first()
        if row is None:  # its event is no longer in the outbox
            raise NotFound("webhook delivery")
        if row.status == "succeeded":
            raise DeliveryNotRetryable()
        if row.lease_expires_at is not None and row.lease_expires_at > wall:
            raise DeliveryNotRetryable("This delivery is being sent right now.")
        await uow.connection.execute(
            update(_D).where(_D.c.id == delivery_id).values(lease_expires_at=lease)
        )
        await uow.commit()
    return _job(row, lease, now)


async def retry_delivery(rt: Runtime, endpoint_id: str, delivery_id: str) -> WebhookDelivery:
    """Send a pending or failed delivery now; answers it after the attempt. A failed one that
    fails again stays failed; a pending one's failure counts in its schedule."""
    job = await _lease_one(rt, endpoint_id, delivery_id)
    held = current_hold()
    if held is not None:
        await held.checkpoint()  # nothing waits on the receiver with a transaction open
    await _send(rt, job)
    async with rt.reading() as uow:
        return _delivery_from_row(await _load_delivery(uow, endpoint_id, delivery_id))


__all__ = [
    "CHANNEL",
    "WebhookDelivery",
    "fan_out",
    "list_deliveries",
    "retry_delivery",
    "send_due",
]
