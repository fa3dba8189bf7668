"""The sandbox clock (``SEATLEDGER_SANDBOX=1`` only; otherwise these routes do not exist)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from seatledger.api.auth import MerchantReader, MerchantWriter
from seatledger.api.common import ApiModel, OutModel, RuntimeDep, Timestamp, idempotency_key_header
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.services import sandbox

router = APIRouter(tags=["sandbox"], route_class=JsonRoute)


# Far enough for any test of renewals; well short of where date arithmetic runs out (9999).
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class ClockIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {"examples": [{"now": "2027-02-01T00:00:00Z"}]}
    }

    now: Timestamp

    @field_validator("now")
    @classmethod
    def _not_too_far(cls, value: datetime) -> datetime:
        if value >= LATEST:
            raise PydanticCustomError("too_late", "must be before 2100-01-01T00:00:00Z")
        return value


class ClockOut(OutModel):
    now: Timestamp


class AdvancedClockOut(OutModel):
    now: Timestamp
    renewed: list[str]


@router.get(
    "/v1/sandbox/clock",
    summary="Read the sandbox clock",
    responses=responses(401, 403),
)
async def get_sandbox_clock(rt: RuntimeDep, _: MerchantReader) -> ClockOut:
    return ClockOut(now=await sandbox.read_clock(rt))


@router.post(
    "/v1/sandbox/clock",
    summary="Move the sandbox clock forward",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 422),
)
async def advance_sandbox_clock(
    body: ClockIn, rt: RuntimeDep, _: MerchantWriter
) -> AdvancedClockOut:
    """Runs every renewal, payment retry and scheduled cancellation that falls due on the way,
    synchronously, and answers the subscriptions renewed. A time in the past is a 422."""
    now, renewed = await sandbox.advance_clock(rt, body.now)
    return AdvancedClockOut(now=now, renewed=list(renewed))
