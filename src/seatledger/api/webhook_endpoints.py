"""Webhook endpoints: registration and listing (SPEC §6, §10); delivery is not built yet."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import Field

from seatledger.api.auth import MerchantReader, MerchantWriter
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    Text,
    Timestamp,
    cursor_of,
    idempotency_key_header,
    list_of,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.events import ALL_EVENTS, EventType
from seatledger.services import webhook_endpoints
from seatledger.services.webhook_endpoints import WebhookEndpoint

router = APIRouter(tags=["webhook endpoints"], route_class=JsonRoute)

# The closed catalogue (SPEC §10), or "*" for all of it. Checked by the service, which names
# every unknown entry (`event_types[i]`); the enum here documents it in /openapi.json.
EventTypeName = Annotated[Text, Field(json_schema_extra={"enum": [*EventType, ALL_EVENTS]})]


class WebhookEndpointIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "examples": [{"url": "https://example.test/hooks", "event_types": ["seat.claimed"]}]
        }
    }

    url: Text
    event_types: list[EventTypeName] | None = None


class WebhookEndpointOut(OutModel):
    id: str
    url: str
    event_types: list[str]
    created_at: Timestamp


class CreatedWebhookEndpointOut(WebhookEndpointOut):
    """The endpoint with its signing `secret`: only in the answer to its creation."""

    secret: str


def webhook_endpoint_out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        created_at=endpoint.created_at,
    )


@router.post(
    "/v1/webhook-endpoints",
    status_code=201,
    summary="Register a webhook endpoint",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 422),
)
async def create_webhook_endpoint(
    body: WebhookEndpointIn, rt: RuntimeDep, _: MerchantWriter
) -> CreatedWebhookEndpointOut:
    """Stores the endpoint and answers its signing `secret` (`whsec_…`, Standard Webhooks) this
    once. `event_types` defaults to `["*"]` (every event); an unknown type is a 422 naming
    `event_types[i]`, and a URL that is not `http(s)://` a 422 naming `url`.

    **Not built yet:** deliveries. Events are recorded in the outbox, but nothing sends them to
    endpoints so far."""
    endpoint = await webhook_endpoints.create_webhook_endpoint(
        rt, url=body.url, event_types=body.event_types
    )
    return CreatedWebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        created_at=endpoint.created_at,
        secret=endpoint.secret,
    )


@router.get(
    "/v1/webhook-endpoints",
    summary="List webhook endpoints",
    responses=responses(401, 403, 422),
)
async def list_webhook_endpoints(
    rt: RuntimeDep, _: MerchantReader, limit: Limit = None, cursor: CursorParam = None
) -> ListOut[WebhookEndpointOut]:
    """Oldest first, without their secrets."""
    page = await webhook_endpoints.list_webhook_endpoints(rt, limit=limit, cursor=cursor_of(cursor))
    return ListOut[WebhookEndpointOut](**list_of(page, webhook_endpoint_out))
