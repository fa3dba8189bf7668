"""Webhook endpoints: registration only (SPEC §6); delivery is not built yet."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from seatledger.api.auth import MerchantWriter
from seatledger.api.common import (
    ApiModel,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    idempotency_key_header,
)
from seatledger.api.problems import responses
from seatledger.services import webhook_endpoints

router = APIRouter(tags=["webhook endpoints"])


class WebhookEndpointIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "examples": [{"url": "https://example.test/hooks", "event_types": ["seat.claimed"]}]
        }
    }

    url: Text
    event_types: list[Text] | None = None


class WebhookEndpointOut(OutModel):
    id: str
    url: str
    secret: str
    event_types: list[str]
    created_at: Timestamp


@router.post(
    "/v1/webhook-endpoints",
    status_code=201,
    summary="Register a webhook endpoint",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 422),
)
async def create_webhook_endpoint(
    body: WebhookEndpointIn, rt: RuntimeDep, _: MerchantWriter
) -> WebhookEndpointOut:
    """Stores the endpoint and answers its signing `secret` (`whsec_…`, Standard Webhooks) this
    once. `event_types` defaults to `["*"]` (every event).

    **Not built yet:** deliveries. Events are recorded in the outbox, but nothing sends them to
    endpoints so far."""
    endpoint = await webhook_endpoints.create_webhook_endpoint(
        rt, url=body.url, event_types=body.event_types
    )
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        secret=endpoint.secret,
        event_types=list(endpoint.event_types),
        created_at=endpoint.created_at,
    )
