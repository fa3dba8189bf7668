"""Benefits: what a seat holder receives on claim (SPEC §5, §6): merchant only."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends

from seatledger.api.auth import MerchantReader, MerchantWriter
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Description,
    JsonObject,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.catalog import Benefit
from seatledger.domain.ids import check_id
from seatledger.services import catalog

router = APIRouter(tags=["benefits"], route_class=JsonRoute)

BenefitType = Literal["file_download", "license_key", "access_grant", "custom"]


class BenefitIn(ApiModel):
    """Properties by type: `file_download` `{file_id}` (from `POST /v1/files`); `license_key`
    `{prefix?, length?}`; `access_grant` any JSON object (≤ 20 keys, 32 levels, 16 KiB);
    `custom` `{note}`."""

    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "examples": [
                {"type": "custom", "description": "Welcome", "properties": {"note": "Hello!"}}
            ]
        }
    }

    type: BenefitType
    description: Description
    properties: JsonObject | None = None


class BenefitOut(OutModel):
    id: str
    type: BenefitType
    description: str
    properties: dict[str, Any]
    created_at: Timestamp


def benefit_out(benefit: Benefit) -> BenefitOut:
    return BenefitOut.model_validate(benefit, from_attributes=True)


@router.post(
    "/v1/benefits",
    status_code=201,
    summary="Create a benefit",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def create_benefit(body: BenefitIn, rt: RuntimeDep, _: MerchantWriter) -> BenefitOut:
    properties = body.properties
    if body.type == "file_download" and properties is not None and "file_id" in properties:
        properties = {
            **properties,
            "file_id": check_id(properties["file_id"], "file", field="properties.file_id"),
        }
    benefit = await catalog.create_benefit(
        rt, type=body.type, description=body.description, properties=properties
    )
    return benefit_out(benefit)


@router.get(
    "/v1/benefits",
    summary="List benefits",
    responses=responses(401, 403, 422),
)
async def list_benefits(
    rt: RuntimeDep, _: MerchantReader, limit: Limit = None, cursor: CursorParam = None
) -> ListOut[BenefitOut]:
    """Oldest first."""
    page = await catalog.list_benefits(rt, limit=limit, cursor=cursor_of(cursor))
    return ListOut[BenefitOut](**list_of(page, benefit_out))


@router.get(
    "/v1/benefits/{benefit_id}",
    summary="Get a benefit",
    responses=responses(401, 403, 404),
)
async def get_benefit(benefit_id: str, rt: RuntimeDep, _: MerchantReader) -> BenefitOut:
    return benefit_out(await catalog.get_benefit(rt, check_id(benefit_id, "benefit")))
