"""Benefits: typed (``file_download``, ``license_key``, ``access_grant``, ``custom``), their
properties checked per type; a ``file_download`` names a file uploaded before."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from seatledger.adapters.db.paging import paginating
from seatledger.domain.catalog import BENEFIT_TYPES, Benefit, BenefitType
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.grant import (
    LICENSE_KEY_GROUP,
    LICENSE_KEY_PREFIX,
    MAX_LICENSE_KEY_LENGTH,
    MAX_LICENSE_KEY_PREFIX,
    MIN_LICENSE_KEY_LENGTH,
)
from seatledger.domain.ids import new_id
from seatledger.domain.json_value import check_json
from seatledger.services.catalog.checks import checked_text
from seatledger.services.catalog.payloads import benefit_payload
from seatledger.services.pages import Page, check_limit, page_of
from seatledger.services.runtime import Runtime

MAX_BENEFIT_DESCRIPTION = 500
MAX_NOTE = 2000
MAX_ACCESS_KEYS = 20


async def create_benefit(
    rt: Runtime,
    *,
    type: str,
    description: str,
    properties: Mapping[str, Any] | None = None,
) -> Benefit:
    """A benefit, its properties checked for its type (see ``_benefit_properties``)."""
    if not isinstance(type, str) or type not in BENEFIT_TYPES:
        raise ValidationFailed.field("type", f"must be one of {', '.join(BENEFIT_TYPES)}")
    description = checked_text(description, "description", MAX_BENEFIT_DESCRIPTION, multiline=True)
    checked = _benefit_properties(type, {} if properties is None else properties)
    now = rt.clock.now()
    benefit = Benefit(new_id("ben"), cast(BenefitType, type), description, checked, now)
    async with rt.transaction() as uow:
        catalog = uow.catalog
        if type == "file_download" and not await catalog.file_exists(checked["file_id"]):
            raise NotFound("file", field="properties.file_id")
        await catalog.add_benefit(benefit)
        uow.emit("benefit.created", benefit_payload(benefit))
        await uow.commit()
    return benefit


async def get_benefit(rt: Runtime, benefit_id: str) -> Benefit:
    async with rt.reading() as uow:
        benefit = await uow.catalog.benefit(benefit_id)
    if benefit is None:
        raise NotFound("benefit")
    return benefit


async def list_benefits(
    rt: Runtime, *, limit: int | None = None, cursor: str | None = None
) -> Page[Benefit]:
    """Benefits, oldest first."""
    size = check_limit(limit)
    async with rt.reading() as uow:
        benefits = await uow.catalog.benefits(paginating(cursor, size))
    return page_of(benefits, [benefit.id for benefit in benefits], size)


def _benefit_properties(benefit_type: str, properties: object) -> dict[str, Any]:
    """Properties by type:

    * ``file_download``: ``{file_id}`` (an uploaded file; checked against the database later);
    * ``license_key``: ``{prefix?, length?}``: a prefix of 1–20 letters, digits and inner dashes;
      ``length`` random characters (a multiple of 4, 12–32, default 16), in groups of four;
    * ``access_grant``: any JSON object of at most 20 keys, 32 levels and 16 KiB (the bounds of
      ``domain.json_value``), handed to the merchant;
    * ``custom``: ``{note}``: 1–2000 characters shown to the holder.
    """
    if not isinstance(properties, Mapping):
        raise ValidationFailed.field("properties", "must be an object")
    if benefit_type == "access_grant":
        return _access_properties(properties)
    allowed = {
        "file_download": ("file_id",),
        "license_key": ("prefix", "length"),
        "custom": ("note",),
    }[benefit_type]
    for key in properties:
        if key not in allowed:
            raise ValidationFailed.field(
                f"properties.{key}", f"is not a property of a {benefit_type} benefit"
            )
    if benefit_type == "file_download":
        file_id = properties.get("file_id")
        if file_id is None:
            raise ValidationFailed.field("properties.file_id", "is required")
        if not isinstance(file_id, str):
            raise NotFound("file", field="properties.file_id")
        return {"file_id": file_id}
    if benefit_type == "custom":
        return {
            "note": checked_text(
                properties.get("note"), "properties.note", MAX_NOTE, multiline=True
            )
        }
    return _license_key_properties(properties)


def _license_key_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    if (prefix := properties.get("prefix")) is not None:
        if not isinstance(prefix, str) or not LICENSE_KEY_PREFIX.fullmatch(prefix):
            raise ValidationFailed.field(
                "properties.prefix",
                f"must be 1 to {MAX_LICENSE_KEY_PREFIX} letters, digits or inner dashes",
            )
        checked["prefix"] = prefix
    if (length := properties.get("length")) is not None:
        if (
            not isinstance(length, int)
            or isinstance(length, bool)
            or not MIN_LICENSE_KEY_LENGTH <= length <= MAX_LICENSE_KEY_LENGTH
            or length % LICENSE_KEY_GROUP
        ):
            raise ValidationFailed.field(
                "properties.length",
                f"must be a multiple of {LICENSE_KEY_GROUP} from {MIN_LICENSE_KEY_LENGTH} "
                f"to {MAX_LICENSE_KEY_LENGTH}",
            )
        checked["length"] = length
    return checked


def _access_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    if len(properties) > MAX_ACCESS_KEYS:
        raise ValidationFailed.field("properties", f"must have at most {MAX_ACCESS_KEYS} keys")
    for key in properties:
        if not isinstance(key, str) or not key:
            raise ValidationFailed.field("properties", "keys must be non-empty strings")
    copied = dict(properties)
    check_json(copied, "properties")  # depth, size, plain JSON (domain.json_value)
    checked: dict[str, Any] = json.loads(json.dumps(copied))  # a deep copy, in plain JSON types
    return checked


__all__ = ["create_benefit", "get_benefit", "list_benefits"]
