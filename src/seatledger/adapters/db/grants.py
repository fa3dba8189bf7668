"""Benefit grants in the database (``benefit_grants``), read and written as the domain's
``BenefitGrant`` (``seatledger.domain.grant``), with the benefits a product grants and the
files a grant lets its holder download."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.catalog import file_from_row
from seatledger.domain.catalog import StoredFile
from seatledger.domain.grant import BenefitGrant, GrantableBenefit, HeldSeat

_grants = t.benefit_grants
_benefit_type = (
    select(t.benefits.c.type)
    .where(t.benefits.c.id == _grants.c.benefit_id)
    .scalar_subquery()
    .label("benefit_type")
)


def grant_from_row(row: Any) -> BenefitGrant:
    """A grant from a ``benefit_grants`` row that also carries ``benefit_type``."""
    return BenefitGrant(
        id=row.id,
        seat_id=row.seat_id,
        member_id=row.member_id,
        benefit_id=row.benefit_id,
        benefit_type=row.benefit_type,
        status=row.status,
        properties=dict(row.properties),
        granted_at=row.granted_at,
        revoked_at=row.revoked_at,
    )


def grant_row(grant: BenefitGrant) -> dict[str, object]:
    return {
        "id": grant.id,
        "seat_id": grant.seat_id,
        "member_id": grant.member_id,
        "benefit_id": grant.benefit_id,
        "status": grant.status,
        "license_key": grant.properties.get("license_key"),
        "properties": grant.properties,
        "granted_at": grant.granted_at,
        "revoked_at": grant.revoked_at,
    }


def _held_query(member_id: str) -> Any:
    """Claimed seats of the member, each with its product and its live grants (if any)."""
    seats = t.seats
    price_id = func.coalesce(t.subscriptions.c.price_id, t.orders.c.price_id)
    return (
        select(
            seats.c.id.label("held_seat_id"),
            t.products.c.id.label("product_id"),
            t.products.c.name.label("product_name"),
            *_grants.c,
            t.benefits.c.type.label("benefit_type"),
        )
        .select_from(seats)
        .outerjoin(t.subscriptions, t.subscriptions.c.id == seats.c.pool_id)
        .outerjoin(t.orders, t.orders.c.id == seats.c.pool_id)
        .join(t.prices, t.prices.c.id == price_id)
        .join(t.products, t.products.c.id == t.prices.c.product_id)
        .outerjoin(_grants, and_(_grants.c.seat_id == seats.c.id, _grants.c.status == "granted"))
        .outerjoin(t.benefits, t.benefits.c.id == _grants.c.benefit_id)
        .where(seats.c.member_id == member_id, seats.c.status == "claimed")
        .order_by(t.products.c.id, seats.c.id, _grants.c.id)
    )


class Grants:
    """The benefit grants of one unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def benefits_of(self, product_id: str) -> list[GrantableBenefit]:
        """The product's benefits in its order, with the files they name (one SELECT)."""
        query = (
            select(
                t.benefits.c.id,
                t.benefits.c.type,
                t.benefits.c.properties,
                t.files.c.name.label("file_name"),
                t.files.c.content_type.label("file_content_type"),
                t.files.c.size.label("file_size"),
            )
            .join(t.product_benefits, t.product_benefits.c.benefit_id == t.benefits.c.id)
            .outerjoin(t.files, t.files.c.id == t.benefits.c.properties["file_id"].as_string())
            .where(t.product_benefits.c.product_id == product_id)
            .order_by(t.product_benefits.c.position)
        )
        return [
            GrantableBenefit(
                id=row.id,
                type=row.type,
                properties=dict(row.properties),
                file_name=row.file_name,
                file_content_type=row.file_content_type,
                file_size=row.file_size,
            )
            for row in await self._connection.execute(query)
        ]

    async def add(self, grants: Sequence[BenefitGrant]) -> None:
        """Write new grants (one multi-row INSERT)."""
        if grants:
            await self._connection.execute(
                insert(_grants).values([grant_row(grant) for grant in grants])
            )

    async def revoke_of_seat(self, seat_id: str, now: datetime) -> list[BenefitGrant]:
        """Revoke the seat's live grants (one UPDATE … RETURNING); answers them."""
        statement = (
            update(_grants)
            .where(_grants.c.seat_id == seat_id, _grants.c.status == "granted")
            .values(status="revoked", revoked_at=now)
            .returning(*_grants.c, _benefit_type)
        )
        return [grant_from_row(row) for row in await self._connection.execute(statement)]

    async def revoke(self, grant_ids: Sequence[str], now: datetime) -> list[BenefitGrant]:
        """Revoke these grants where still live; answers the ones revoked."""
        statement = (
            update(_grants)
            .where(_grants.c.id.in_(list(grant_ids)), _grants.c.status == "granted")
            .values(status="revoked", revoked_at=now)
            .returning(*_grants.c, _benefit_type)
        )
        return [grant_from_row(row) for row in await self._connection.execute(statement)]

    async def live_of_seats(self, seat_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """The ``(grant id, seat id, benefit id)`` of the seats' live grants."""
        rows = await self._connection.execute(
            select(_grants.c.id, _grants.c.seat_id, _grants.c.benefit_id).where(
                _grants.c.seat_id.in_(list(seat_ids)), _grants.c.status == "granted"
            )
        )
        return [(row.id, row.seat_id, row.benefit_id) for row in rows]

    async def claimed_holders(self, pool_id: str) -> list[tuple[str, str]]:
        """The ``(seat id, member id)`` of the pool's claimed seats."""
        rows = await self._connection.execute(
            select(t.seats.c.id, t.seats.c.member_id).where(
                t.seats.c.pool_id == pool_id, t.seats.c.status == "claimed"
            )
        )
        return [(row.id, row.member_id) for row in rows]

    async def held_by(self, member_id: str) -> list[HeldSeat]:
        """The member's claimed seats with their products and live grants, by product, seat
        and grant."""
        rows = (await self._connection.execute(_held_query(member_id))).all()
        return [
            HeldSeat(
                seat_id=row.held_seat_id,
                product_id=row.product_id,
                product_name=row.product_name,
                grant=None if row.id is None else grant_from_row(row),
            )
            for row in rows
        ]

    async def granted_file(self, file_id: str, grant_id: str) -> tuple[StoredFile, bytes] | None:
        """The file with its content, while the grant is live and names it."""
        query = (
            select(t.files)
            .select_from(_grants)
            .join(t.files, t.files.c.id == file_id)
            .where(
                _grants.c.id == grant_id,
                _grants.c.status == "granted",
                _grants.c.properties["file_id"].as_string() == file_id,
            )
        )
        row = (await self._connection.execute(query)).first()
        return None if row is None else (file_from_row(row), bytes(row.content))


__all__ = ["Grants", "grant_from_row", "grant_row"]
