"""Benefit grants: created when a seat is claimed, revoked with it; what a member holds.

``grant_benefits`` and ``emit_revoked`` run inside the seat use case's unit of work (claim,
revoke, member removal, cancellation) and never commit: a grant exists exactly when its seat is
claimed. Each writes its events (``benefit_grant.created`` / ``benefit_grant.revoked``) to the
same outbox batch, so the merchant hears of a grant only if the claim is kept.

File downloads go through signed, expiring links: ``…/v1/files/{file_id}/download?grant=…
&expires=…&signature=…``, an HMAC-SHA256 of (file, grant, expiry) under the instance's secret
key. A link works until it expires (one hour) and only while its grant is granted; every refusal
looks the same (``NotFound("file")``), so a link reveals nothing about why it is dead.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from seatledger.adapters.db import tables as t
from seatledger.adapters.db.catalog import file_from_row
from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import StoredFile
from seatledger.domain.errors import NotFound
from seatledger.domain.events import EventType
from seatledger.domain.grant import (
    DEFAULT_LICENSE_KEY_LENGTH,
    BenefitGrant,
    MemberEntitlements,
    ProductEntitlement,
    new_license_key,
)
from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime
from seatledger.services.secret_key import secret_key

DOWNLOAD_LINK_TTL = timedelta(hours=1)
# The download signature is made with a key derived for this one purpose, so that the instance
# secret can sign other things later without one signature ever passing for another.
_DOWNLOAD_PURPOSE = b"seatledger/file-download/v1"

_benefit_type = (
    select(t.benefits.c.type)
    .where(t.benefits.c.id == t.benefit_grants.c.benefit_id)
    .scalar_subquery()
    .label("benefit_type")
)


# -- granting and revoking (inside the seat's unit of work) ---------------------------------------


async def product_benefits(connection: AsyncConnection, product_id: str) -> list[Any]:
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
    return list((await connection.execute(query)).all())


def new_grant(
    benefit: Any, *, seat_id: str, member_id: str, now: datetime
) -> tuple[BenefitGrant, dict[str, Any]]:
    """A grant of one benefit (a row of ``product_benefits``) and its ``benefit_grants`` row."""
    properties = _granted_properties(benefit)
    grant = BenefitGrant(
        id=new_id("grant"),
        seat_id=seat_id,
        member_id=member_id,
        benefit_id=benefit.id,
        benefit_type=benefit.type,
        status="granted",
        properties=properties,
        granted_at=now,
        revoked_at=None,
    )
    row = {
        "id": grant.id,
        "seat_id": seat_id,
        "member_id": member_id,
        "benefit_id": benefit.id,
        "status": "granted",
        "license_key": properties.get("license_key"),
        "properties": properties,
        "granted_at": now,
        "revoked_at": None,
    }
    return grant, row


async def grant_benefits(
    uow: UnitOfWork, rt: Runtime, *, seat_id: str, member_id: str, product_id: str
) -> list[BenefitGrant]:
    """Grant every benefit of ``product_id`` to the seat's holder; does not commit.

    One SELECT (the benefits, in the product's order, with the files they name) and one
    multi-row INSERT; one ``benefit_grant.created`` event per grant.
    """
    benefits = await product_benefits(uow.connection, product_id)
    if not benefits:
        return []
    now = rt.clock.now()
    made = [new_grant(b, seat_id=seat_id, member_id=member_id, now=now) for b in benefits]
    await uow.connection.execute(insert(t.benefit_grants).values([row for _, row in made]))
    granted = [grant for grant, _ in made]
    for grant in granted:
        uow.emit(EventType.BENEFIT_GRANT_CREATED, grant)
    return granted


def _granted_properties(benefit: Any) -> dict[str, Any]:
    """What the holder receives from one benefit (a download link is added only when read)."""
    properties: Mapping[str, Any] = benefit.properties
    if benefit.type == "license_key":
        length = properties.get("length", DEFAULT_LICENSE_KEY_LENGTH)
        return {"license_key": new_license_key(properties.get("prefix"), length)}
    if benefit.type == "file_download":
        return {
            "file_id": properties["file_id"],
            "name": benefit.file_name,
            "content_type": benefit.file_content_type,
            "size": benefit.file_size,
        }
    if benefit.type == "custom":
        return {"note": properties["note"]}
    return dict(properties)  # access_grant: the merchant's properties, as they are


async def revoke_benefits(uow: UnitOfWork, rt: Runtime, *, seat_id: str) -> list[BenefitGrant]:
    """Revoke the seat's live grants (one UPDATE … RETURNING) without revoking the seat; does
    not commit. A seat's revocation revokes them in its own statement (``emit_revoked``)."""
    statement = (
        update(t.benefit_grants)
        .where(t.benefit_grants.c.seat_id == seat_id, t.benefit_grants.c.status == "granted")
        .values(status="revoked", revoked_at=rt.clock.now())
        .returning(*t.benefit_grants.c, _benefit_type)
    )
    return emit_revoked(uow, (await uow.connection.execute(statement)).all())


def emit_revoked(uow: UnitOfWork, rows: Sequence[Any]) -> list[BenefitGrant]:
    """The grants revoked with their seat (``Seats.revoke``: in its statement), each with a
    ``benefit_grant.revoked`` event; a seat without live grants emits nothing."""
    revoked = sorted((grant_from_row(row) for row in rows), key=lambda grant: grant.id)
    for grant in revoked:
        uow.emit(EventType.BENEFIT_GRANT_REVOKED, grant)
    return revoked


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


# -- what a member holds ------------------------------------------------------------------------


async def member_entitlements(rt: Runtime, member_id: str) -> MemberEntitlements:
    """The products a member holds through claimed seats, with their live grants.

    File downloads carry a freshly signed ``download_url`` (valid one hour) and
    ``download_expires_at``. ``NotFound("member")`` for an unknown or removed member.
    """
    key = await secret_key(rt)  # before the transaction: it may need a connection of its own
    async with rt.reading() as uow:
        member = (
            await uow.connection.execute(
                select(t.members.c.id, t.members.c.company_id).where(
                    t.members.c.id == member_id, t.members.c.removed_at.is_(None)
                )
            )
        ).first()
        if member is None:
            raise NotFound("member")
        rows = (await uow.connection.execute(_held_query(member_id))).all()
    expires = rt.clock.now() + DOWNLOAD_LINK_TTL
    products: dict[str, tuple[str, list[str], list[BenefitGrant]]] = {}
    for row in rows:
        _, seat_ids, held = products.setdefault(row.product_id, (row.product_name, [], []))
        if row.held_seat_id not in seat_ids:
            seat_ids.append(row.held_seat_id)
        if row.id is None:  # a claimed seat of a product without benefits
            continue
        grant = grant_from_row(row)
        if grant.benefit_type == "file_download":
            grant = _with_download_link(rt, key, grant, expires)
        held.append(grant)
    return MemberEntitlements(
        member_id=member.id,
        company_id=member.company_id,
        products=tuple(
            ProductEntitlement(product_id, name, tuple(seat_ids), tuple(held))
            for product_id, (name, seat_ids, held) in products.items()
        ),
    )


def _held_query(member_id: str) -> Any:
    """Claimed seats of the member, each with its product and its live grants (if any)."""
    seats, grants = t.seats, t.benefit_grants
    price_id = func.coalesce(t.subscriptions.c.price_id, t.orders.c.price_id)
    return (
        select(
            seats.c.id.label("held_seat_id"),
            t.products.c.id.label("product_id"),
            t.products.c.name.label("product_name"),
            *grants.c,
            t.benefits.c.type.label("benefit_type"),
        )
        .select_from(seats)
        .outerjoin(t.subscriptions, t.subscriptions.c.id == seats.c.pool_id)
        .outerjoin(t.orders, t.orders.c.id == seats.c.pool_id)
        .join(t.prices, t.prices.c.id == price_id)
        .join(t.products, t.products.c.id == t.prices.c.product_id)
        .outerjoin(grants, and_(grants.c.seat_id == seats.c.id, grants.c.status == "granted"))
        .outerjoin(t.benefits, t.benefits.c.id == grants.c.benefit_id)
        .where(seats.c.member_id == member_id, seats.c.status == "claimed")
        .order_by(t.products.c.id, seats.c.id, grants.c.id)
    )


# -- signed download links ----------------------------------------------------------------------


def _download_signature(key: str, file_id: str, grant_id: str, expires: int) -> str:
    purpose_key = hmac.new(key.encode(), _DOWNLOAD_PURPOSE, hashlib.sha256).digest()
    message = f"{file_id}\n{grant_id}\n{expires}".encode()
    return hmac.new(purpose_key, message, hashlib.sha256).hexdigest()


def download_url(rt: Runtime, key: str, *, file_id: str, grant_id: str, expires: int) -> str:
    signature = _download_signature(key, file_id, grant_id, expires)
    return (
        f"{rt.settings.public_url}/v1/files/{quote(file_id, safe='')}/download"
        f"?grant={quote(grant_id, safe='')}&expires={expires}&signature={signature}"
    )


def _with_download_link(
    rt: Runtime, key: str, grant: BenefitGrant, expires_at: datetime
) -> BenefitGrant:
    expires = int(expires_at.timestamp())
    url = download_url(
        rt, key, file_id=grant.properties["file_id"], grant_id=grant.id, expires=expires
    )
    properties = {
        **grant.properties,
        "download_url": url,
        "download_expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
    }
    return replace(grant, properties=properties)


async def download_file(
    rt: Runtime, *, file_id: str, grant_id: str, expires: int | str, signature: str
) -> tuple[StoredFile, bytes]:
    """The file behind a signed link, with its content.

    The link must carry a valid signature, must not have expired, and its grant must still be
    granted; any failure is ``NotFound("file")``, whatever the reason.
    """
    expires_at = _parse_expires(expires)
    if (
        expires_at is None
        or not all(isinstance(v, str) and v.isascii() for v in (file_id, grant_id, signature))
        or rt.clock.now().timestamp() >= expires_at
    ):
        raise NotFound("file")
    expected = _download_signature(await secret_key(rt), file_id, grant_id, expires_at)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise NotFound("file")
    async with rt.reading() as uow:
        row = await _granted_file(uow.connection, file_id, grant_id)
    if row is None:
        raise NotFound("file")
    return file_from_row(row), bytes(row.content)


def _parse_expires(expires: object) -> int | None:
    if isinstance(expires, bool):
        return None
    if isinstance(expires, int):
        return expires
    if isinstance(expires, str) and expires.isascii() and expires.isdigit() and len(expires) < 20:
        return int(expires)
    return None


async def _granted_file(connection: AsyncConnection, file_id: str, grant_id: str) -> Any:
    grants = t.benefit_grants
    query = (
        select(t.files)
        .select_from(grants)
        .join(t.files, t.files.c.id == file_id)
        .where(
            grants.c.id == grant_id,
            grants.c.status == "granted",
            grants.c.properties["file_id"].as_string() == file_id,
        )
    )
    return (await connection.execute(query)).first()
