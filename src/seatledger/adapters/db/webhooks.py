"""Webhook endpoints and their deliveries in the database (``webhook_endpoints``,
``webhook_deliveries``), read as ``WebhookEndpoint``, ``WebhookDelivery`` and ``DueDelivery``
(``seatledger.domain.webhook``). An endpoint's secrets are read only to sign (``DueDelivery``)
and to rotate; its answers never carry them.

A delivery's outcome is written only while its lease is the one it was sent under
(``_leased_by``): a lease that ran out belongs to whoever took the delivery next.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.domain.events import OutboxEvent
from seatledger.domain.webhook import DeliveryStatus, DueDelivery, WebhookDelivery, WebhookEndpoint

_D = t.webhook_deliveries
_E = t.webhook_endpoints
_O = t.outbox
_PUBLIC = [column for column in _E.c if "secret" not in column.name]
# How a list is paged: the query and its id column in, the page's query out.
Paging = Callable[[Select[Any], ColumnElement[str]], Select[Any]]
Leased = tuple[str, datetime]  # a delivery's id and the lease it is sent under


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        url=row.url,
        event_types=tuple(row.event_types),
        description=row.description,
        enabled=row.disabled_at is None,
        created_at=row.created_at,
    )


def _delivery(row: Any) -> WebhookDelivery:
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


def _due(row: Any) -> DueDelivery:
    return DueDelivery(
        delivery_id=row.id,
        endpoint_id=row.endpoint_id,
        status=row.status,
        attempts=row.attempts,
        lease_expires_at=row.lease_expires_at,
        url=row.url,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_expires_at=row.previous_secret_expires_at,
        event=OutboxEvent(row.event_id, row.type, row.created_at, row.payload),
    )


_due_query = select(
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


def _leased_by(leased: Sequence[Leased]) -> ColumnElement[bool]:
    return or_(
        *(
            (_D.c.id.in_([delivery_id for delivery_id, held in leased if held == lease]))
            & (_D.c.lease_expires_at == lease)
            for lease in {held for _, held in leased}
        )
    )


class WebhookEndpoints:
    """The webhook endpoints of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, endpoint: WebhookEndpoint) -> None:
        await self._connection.execute(
            insert(_E).values(
                id=endpoint.id,
                url=endpoint.url,
                secret=endpoint.secret,
                event_types=list(endpoint.event_types),
                description=endpoint.description,
                created_at=endpoint.created_at,
            )
        )

    async def get(self, endpoint_id: str, *, lock: bool = False) -> WebhookEndpoint | None:
        """The endpoint without its secrets; ``lock`` locks its row for this transaction."""
        query = select(*_PUBLIC).where(_E.c.id == endpoint_id)
        if lock:
            query = query.with_for_update()
        row = (await self._connection.execute(query)).first()
        return None if row is None else _endpoint(row)

    async def exists(self, endpoint_id: str) -> bool:
        found = await self._connection.scalar(select(_E.c.id).where(_E.c.id == endpoint_id))
        return found is not None

    async def page(self, paging: Paging) -> list[WebhookEndpoint]:
        rows = (await self._connection.execute(paging(select(*_PUBLIC), _E.c.id))).all()
        return [_endpoint(row) for row in rows]

    async def hearing(self) -> list[tuple[str, list[str]]]:
        """The enabled endpoints' ids with the event types each hears."""
        rows = await self._connection.execute(
            select(_E.c.id, _E.c.event_types).where(_E.c.disabled_at.is_(None))
        )
        return [(row.id, list(row.event_types)) for row in rows]

    async def update(self, endpoint_id: str, **values: object) -> None:
        """Write ``values`` (columns of ``webhook_endpoints``)."""
        if values:
            await self._connection.execute(
                update(_E).where(_E.c.id == endpoint_id).values(**values)
            )

    async def delete(self, endpoint_id: str) -> None:
        """Forget the endpoint and its deliveries."""
        await self._connection.execute(delete(_D).where(_D.c.endpoint_id == endpoint_id))
        await self._connection.execute(delete(_E).where(_E.c.id == endpoint_id))

    async def rotate(self, endpoint_id: str, secret: str, previous_until: datetime) -> None:
        """``secret`` signs from now; the current one beside it until ``previous_until``."""
        current = await self._connection.scalar(select(_E.c.secret).where(_E.c.id == endpoint_id))
        await self.update(
            endpoint_id,
            secret=secret,
            previous_secret=current,
            previous_secret_expires_at=previous_until,
        )

    async def succeeded(self, endpoint_id: str) -> None:
        """A delivery went through: the endpoint is not failing (any more)."""
        await self._connection.execute(
            update(_E)
            .where(_E.c.id == endpoint_id, _E.c.failing_since.is_not(None))
            .values(failing_since=None)
        )

    async def failing(self, endpoint_id: str) -> tuple[datetime | None, bool] | None:
        """The endpoint's ``failing_since`` and whether it is enabled, its row locked (None
        when it is gone)."""
        query = select(_E.c.failing_since, _E.c.disabled_at).where(_E.c.id == endpoint_id)
        row = (await self._connection.execute(query.with_for_update())).first()
        return None if row is None else (row.failing_since, row.disabled_at is None)


class WebhookDeliveries:
    """The webhook deliveries of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def pairs(self, event_ids: Sequence[str]) -> set[tuple[str, str]]:
        """The ``(event_id, endpoint_id)`` of the deliveries these events already have."""
        query = select(_D.c.event_id, _D.c.endpoint_id).where(_D.c.event_id.in_(list(event_ids)))
        return {(row.event_id, row.endpoint_id) for row in await self._connection.execute(query)}

    async def add_pending(self, rows: Sequence[dict[str, object]]) -> None:
        """New pending deliveries (``id``, ``endpoint_id``, ``event_id``, ``event_type``,
        ``next_attempt_at``, ``created_at``)."""
        if rows:
            await self._connection.execute(
                insert(_D), [{**row, "status": "pending", "attempts": 0} for row in rows]
            )

    async def due(self, now: datetime, wall: datetime, limit: int) -> list[DueDelivery]:
        """Pending deliveries of enabled endpoints due at ``now`` and not leased at ``wall``,
        in due order (the events' order when due together), locked, skipping rows another
        worker holds."""
        query = (
            _due_query.where(
                _D.c.status == "pending",
                _D.c.next_attempt_at <= now,
                _E.c.disabled_at.is_(None),
                or_(_D.c.lease_expires_at.is_(None), _D.c.lease_expires_at <= wall),
            )
            .order_by(_D.c.next_attempt_at, _O.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=_D)
        )
        return [_due(row) for row in (await self._connection.execute(query)).all()]

    async def due_one(self, delivery_id: str) -> DueDelivery | None:
        """The delivery with what sending it needs, its row locked (None when its event is no
        longer in the outbox)."""
        query = _due_query.where(_D.c.id == delivery_id).with_for_update(of=_D)
        row = (await self._connection.execute(query)).first()
        return None if row is None else _due(row)

    async def lease(self, delivery_ids: Sequence[str], lease: datetime | None) -> None:
        if delivery_ids:
            await self._connection.execute(
                update(_D).where(_D.c.id.in_(list(delivery_ids))).values(lease_expires_at=lease)
            )

    async def hand_back(self, leased: Sequence[Leased]) -> None:
        """Clear the leases of deliveries not sent (those still under them)."""
        if leased:
            await self._connection.execute(
                update(_D).where(_leased_by(leased)).values(lease_expires_at=None)
            )

    async def record_failure(
        self,
        leased: Leased,
        *,
        status: DeliveryStatus,
        attempts: int,
        response_status: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        """A failed attempt, written if the lease is still its own; answers whether it was."""
        recorded = await self._connection.execute(
            update(_D)
            .where(_leased_by([leased]))
            .values(
                status=status,
                attempts=attempts,
                response_status=response_status,
                last_error=error,
                next_attempt_at=next_attempt_at,
                last_attempt_at=now,
                lease_expires_at=None,
            )
        )
        return bool(recorded.rowcount)

    async def record_successes(
        self, leased: Sequence[Leased], response_status: int | None, now: datetime
    ) -> bool:
        """Successful attempts, written where the lease is still their own; answers whether
        any was."""
        recorded = await self._connection.execute(
            update(_D)
            .where(_leased_by(leased))
            .values(
                status="succeeded",
                attempts=_D.c.attempts + 1,
                response_status=response_status,
                last_error=None,
                next_attempt_at=None,
                last_attempt_at=now,
                lease_expires_at=None,
            )
        )
        return bool(recorded.rowcount)

    async def wake(self, endpoint_id: str, now: datetime) -> None:
        """The endpoint's pending deliveries become due at ``now``."""
        await self._connection.execute(
            update(_D)
            .where(_D.c.endpoint_id == endpoint_id, _D.c.status == "pending")
            .values(next_attempt_at=now)
        )

    async def get(self, endpoint_id: str, delivery_id: str) -> WebhookDelivery | None:
        query = select(_D).where(_D.c.id == delivery_id, _D.c.endpoint_id == endpoint_id)
        row = (await self._connection.execute(query)).first()
        return None if row is None else _delivery(row)

    async def page(
        self, endpoint_id: str, paging: Paging, *, status: DeliveryStatus | None = None
    ) -> list[WebhookDelivery]:
        query = select(_D).where(_D.c.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(_D.c.status == status)
        rows = (await self._connection.execute(paging(query, _D.c.id))).all()
        return [_delivery(row) for row in rows]


__all__ = ["Leased", "WebhookDeliveries", "WebhookEndpoints"]
