"""Probes for orchestrators (SPEC §8), outside ``/v1`` and without credentials: ``/healthz``
(the process is up) and ``/readyz`` (the database answers and its schema is current)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from seatledger.api.common import OutModel, RuntimeDep
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.services import readiness

router = APIRouter(tags=["operations"], route_class=JsonRoute)


class HealthOut(OutModel):
    status: Literal["ok"]


class ReadyOut(OutModel):
    status: Literal["ok"]
    schema_revision: str


@router.get("/healthz", summary="Is the process up?")
async def check_health() -> HealthOut:
    """Answers as long as the process serves requests; touches nothing else."""
    return HealthOut(status="ok")


@router.get("/readyz", summary="Can the server do its work?", responses=responses(503))
async def check_readiness(rt: RuntimeDep) -> ReadyOut:
    """The database answers and its schema is at the revision this server needs. Otherwise 503
    `not_ready`, whose `detail` says what to do (e.g. run `seatledger migrate`)."""
    return ReadyOut(status="ok", schema_revision=await readiness.check_ready(rt))
