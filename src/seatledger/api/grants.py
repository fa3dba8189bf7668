"""Benefit grants as answers: one schema per benefit type, told apart by ``type`` (SPEC §5, §6).

What a holder receives (``properties``) depends on the benefit's type:

* ``file_download``: the file (`file_id`, `name`, `content_type`, `size`) and, where the grant is
  read through a member's entitlements, a signed `download_url` valid until
  `download_expires_at` (null elsewhere);
* ``license_key``: the `license_key` made for this grant alone;
* ``access_grant``: the merchant's own properties, as they were given;
* ``custom``: the merchant's `note`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from seatledger.api.common import OutModel, Timestamp
from seatledger.domain.grant import BenefitGrant


class FileDownloadPropertiesOut(OutModel):
    file_id: str
    name: str
    content_type: str
    size: int
    download_url: str | None = Field(
        description="A signed link to the file (`GET /v1/files/{file_id}/download`), given "
        "in a member's entitlements; null elsewhere."
    )
    download_expires_at: Timestamp | None = Field(description="When `download_url` dies.")


class LicenseKeyPropertiesOut(OutModel):
    license_key: str = Field(examples=["TEAM-7Q2M-X9KD-4RTB-H1ZC"])


class CustomPropertiesOut(OutModel):
    note: str


class _GrantOut(OutModel):
    id: str
    benefit_id: str
    seat_id: str = Field(description="The claimed seat the grant comes with.")
    member_id: str = Field(description="The member who holds it.")
    status: Literal["granted", "revoked"]
    granted_at: Timestamp
    revoked_at: Timestamp | None


class FileDownloadGrantOut(_GrantOut):
    type: Literal["file_download"]
    properties: FileDownloadPropertiesOut


class LicenseKeyGrantOut(_GrantOut):
    type: Literal["license_key"]
    properties: LicenseKeyPropertiesOut


class AccessGrantOut(_GrantOut):
    type: Literal["access_grant"]
    properties: dict[str, Any] = Field(description="The benefit's properties, as given.")


class CustomGrantOut(_GrantOut):
    type: Literal["custom"]
    properties: CustomPropertiesOut


GrantOut = Annotated[
    FileDownloadGrantOut | LicenseKeyGrantOut | AccessGrantOut | CustomGrantOut,
    Field(discriminator="type"),
]


def grant_out(grant: BenefitGrant) -> GrantOut:
    """Built by type, not by ``from_attributes``: a grant's ``properties`` is a free-form
    mapping whose typed shape depends on its benefit's type (a download's link only in a
    member's entitlements)."""
    common: dict[str, Any] = {
        "id": grant.id,
        "benefit_id": grant.benefit_id,
        "seat_id": grant.seat_id,
        "member_id": grant.member_id,
        "status": grant.status,
        "granted_at": grant.granted_at,
        "revoked_at": grant.revoked_at,
    }
    properties = grant.properties
    if grant.benefit_type == "file_download":
        return FileDownloadGrantOut(
            **common,
            type="file_download",
            properties=FileDownloadPropertiesOut(
                file_id=properties["file_id"],
                name=properties["name"],
                content_type=properties["content_type"],
                size=properties["size"],
                download_url=properties.get("download_url"),
                download_expires_at=properties.get("download_expires_at"),
            ),
        )
    if grant.benefit_type == "license_key":
        return LicenseKeyGrantOut(
            **common,
            type="license_key",
            properties=LicenseKeyPropertiesOut(license_key=properties["license_key"]),
        )
    if grant.benefit_type == "custom":
        return CustomGrantOut(
            **common, type="custom", properties=CustomPropertiesOut(note=properties["note"])
        )
    return AccessGrantOut(**common, type="access_grant", properties=dict(properties))


__all__ = [
    "AccessGrantOut",
    "CustomGrantOut",
    "FileDownloadGrantOut",
    "GrantOut",
    "LicenseKeyGrantOut",
    "grant_out",
]
