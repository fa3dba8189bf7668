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

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.catalog import StoredFile
from seatledger.domain.errors import NotFound
from seatledger.domain.events import EventType
from seatledger.domain.grant import (
    DEFAULT_LICENSE_KEY_LENGTH,
    BenefitGrant,
    GrantableBenefit,
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

# -- granting and revoking (inside the seat's unit of work) ---------------------------------------


def new_grant(
    benefit: GrantableBenefit, *, seat_id: str, member_id: str, now: datetime
) -> BenefitGrant:
    """A grant of one of a product's benefits to a seat's holder."""
    return BenefitGrant(
        id=new_id("grant"),
        seat_id=seat_id,
        member_id=member_id,
        benefit_id=benefit.id,
        benefit_type=benefit.type,
        status="granted",
        properties=_granted_properties(benefit),
        granted_at=now,
        revoked_at=None,
    )


async def grant_benefits(
    uow: UnitOfWork, rt: Runtime, *, seat_id: str, member_id: str, product_id: str
) -> list[BenefitGrant]:
    """Grant every benefit of ``product_id`` to the seat's holder; does not commit.

    One SELECT (the benefits, in the product's order, with the files they name) and one
    multi-row INSERT; one ``benefit_grant.created`` event per grant.
    """
    benefits = await uow.grants.benefits_of(product_id)
    if not benefits:
        return []
    now = rt.clock.now()
    granted = [new_grant(b, seat_id=seat_id, member_id=member_id, now=now) for b in benefits]
    await uow.grants.add(granted)
    for grant in granted:
        uow.emit(EventType.BENEFIT_GRANT_CREATED, grant)
    return granted


def _granted_properties(benefit: GrantableBenefit) -> dict[str, Any]:
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
    return emit_revoked(uow, await uow.grants.revoke_of_seat(seat_id, rt.clock.now()))


def emit_revoked(uow: UnitOfWork, grants: Sequence[BenefitGrant]) -> list[BenefitGrant]:
    """The grants revoked with their seat (``Seats.revoke``: in its statement), each with a
    ``benefit_grant.revoked`` event; a seat without live grants emits nothing."""
    revoked = sorted(grants, key=lambda grant: grant.id)
    for grant in revoked:
        uow.emit(EventType.BENEFIT_GRANT_REVOKED, grant)
    return revoked


# -- what a member holds ------------------------------------------------------------------------


async def member_entitlements(rt: Runtime, member_id: str) -> MemberEntitlements:
    """The products a member holds through claimed seats, with their live grants.

    File downloads carry a freshly signed ``download_url`` (valid one hour) and
    ``download_expires_at``. ``NotFound("member")`` for an unknown or removed member.
    """
    key = await secret_key(rt)  # before the transaction: it may need a connection of its own
    async with rt.reading() as uow:
        member = await uow.members.get(member_id)
        if member is None:
            raise NotFound("member")
        seats = await uow.grants.held_by(member_id)
    expires = rt.clock.now() + DOWNLOAD_LINK_TTL
    products: dict[str, tuple[str, list[str], list[BenefitGrant]]] = {}
    for seat in seats:
        _, seat_ids, held = products.setdefault(seat.product_id, (seat.product_name, [], []))
        if seat.seat_id not in seat_ids:
            seat_ids.append(seat.seat_id)
        grant = seat.grant
        if grant is None:  # a claimed seat of a product without benefits
            continue
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
        found = await uow.grants.granted_file(file_id, grant_id)
    if found is None:
        raise NotFound("file")
    return found


def _parse_expires(expires: object) -> int | None:
    if isinstance(expires, bool):
        return None
    if isinstance(expires, int):
        return expires
    if isinstance(expires, str) and expires.isascii() and expires.isdigit() and len(expires) < 20:
        return int(expires)
    return None
