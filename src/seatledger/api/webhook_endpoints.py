"""Webhook endpoints and their deliveries (SPEC §6, §10). Merchant API keys only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field, StrictBool

from seatledger.api.auth import MerchantReader, MerchantWriter
from seatledger.api.common import (
    ApiModel,
    CursorParam,
    Description,
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
from seatledger.api.idempotency import store_for_replay
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.events import ALL_EVENTS, EventType
from seatledger.domain.ids import check_id
from seatledger.services import webhook_deliveries, webhook_endpoints
from seatledger.services.webhook_deliveries import WebhookDelivery
from seatledger.services.webhook_endpoints import WebhookEndpoint

router = APIRouter(tags=["webhook endpoints"], route_class=JsonRoute)

# The closed catalogue (SPEC §10), or "*" for all of it. Checked by the service, which names
# every unknown entry (`event_types[i]`); the enum here documents it in /openapi.json.
EventTypeName = Annotated[Text, Field(json_schema_extra={"enum": [*EventType, ALL_EVENTS]})]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookEndpointIn(ApiModel):
    model_config = ApiModel.model_config | {
        "json_schema_extra": {
            "examples": [{"url": "https://example.test/hooks", "event_types": ["seat.claimed"]}]
        }
    }

    url: Text
    event_types: list[EventTypeName] | None = None
    description: Description | None = None


class WebhookEndpointPatch(ApiModel):
    model_config = ApiModel.model_config | {"json_schema_extra": {"examples": [{"enabled": True}]}}

    url: Text | None = None
    event_types: list[EventTypeName] | None = None
    description: Description | None = None
    enabled: StrictBool | None = None


class WebhookEndpointOut(OutModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    created_at: Timestamp


class WebhookEndpointWithSecretOut(WebhookEndpointOut):
    """The endpoint with its signing `secret`: only in the answers to its creation and to a
    rotation (a replay of either, by its `Idempotency-Key`, leaves the secret out)."""

    secret: str


class WebhookDeliveryOut(OutModel):
    id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: Timestamp | None


def webhook_endpoint_out(endpoint: WebhookEndpoint) -> WebhookEndpointOut:
    return WebhookEndpointOut.model_validate(endpoint, from_attributes=True)


def _with_secret(request: Request, endpoint: WebhookEndpoint) -> WebhookEndpointWithSecretOut:
    """The secret is shown once: a replay of this answer has none."""
    answer = webhook_endpoint_out(endpoint)
    store_for_replay(request.scope, answer, "secret")
    return WebhookEndpointWithSecretOut(**answer.model_dump(), secret=endpoint.secret)


def webhook_delivery_out(delivery: WebhookDelivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut.model_validate(delivery, from_attributes=True)


@router.post(
    "/v1/webhook-endpoints",
    status_code=201,
    summary="Register a webhook endpoint",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 422),
)
async def create_webhook_endpoint(
    body: WebhookEndpointIn, request: Request, rt: RuntimeDep, _: MerchantWriter
) -> WebhookEndpointWithSecretOut:
    """Stores the endpoint and answers its signing `secret` (`whsec_…`, Standard Webhooks) this
    once. `event_types` defaults to `["*"]` (every event); an unknown type is a 422 naming
    `event_types[i]`, and a URL that is not `http(s)://` a 422 naming `url`. Outside the
    sandbox, a URL whose host resolves to a loopback, private, link-local, multicast or
    unspecified address is a 422 naming `url` (unless `SEATLEDGER_WEBHOOK_ALLOW_PRIVATE=1`).

    Every catalogued event the endpoint hears is then POSTed to it, signed per Standard
    Webhooks, and retried on failure (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h)."""
    endpoint = await webhook_endpoints.create_webhook_endpoint(
        rt, url=body.url, event_types=body.event_types, description=body.description
    )
    return _with_secret(request, endpoint)


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


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}",
    summary="Get a webhook endpoint",
    responses=responses(401, 403, 404),
)
async def get_webhook_endpoint(
    endpoint_id: str, rt: RuntimeDep, _: MerchantReader
) -> WebhookEndpointOut:
    """Without its secret."""
    endpoint_id = check_id(endpoint_id, "webhook endpoint")
    return webhook_endpoint_out(await webhook_endpoints.get_webhook_endpoint(rt, endpoint_id))


@router.patch(
    "/v1/webhook-endpoints/{endpoint_id}",
    summary="Change a webhook endpoint, or disable or enable it",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 422),
)
async def update_webhook_endpoint(
    endpoint_id: str, body: WebhookEndpointPatch, rt: RuntimeDep, _: MerchantWriter
) -> WebhookEndpointOut:
    """Changes what is given, checked as at creation (`description: null` clears it).
    `enabled: false` stops sending to it (it hears no new event meanwhile); `enabled: true`
    sends its pending deliveries at once, also after it was disabled for 5 days of failures."""
    endpoint_id = check_id(endpoint_id, "webhook endpoint")
    changes = {}
    if "description" in body.model_fields_set:
        changes["description"] = body.description
    endpoint = await webhook_endpoints.update_webhook_endpoint(
        rt,
        endpoint_id,
        url=body.url,
        event_types=body.event_types,
        enabled=body.enabled,
        **changes,
    )
    return webhook_endpoint_out(endpoint)


@router.delete(
    "/v1/webhook-endpoints/{endpoint_id}",
    status_code=204,
    summary="Delete a webhook endpoint",
    response_class=Response,
    responses=responses(401, 403, 404),
)
async def delete_webhook_endpoint(endpoint_id: str, rt: RuntimeDep, _: MerchantWriter) -> Response:
    """The endpoint and its deliveries are forgotten: nothing more is sent to it."""
    endpoint_id = check_id(endpoint_id, "webhook endpoint")
    await webhook_endpoints.delete_webhook_endpoint(rt, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/rotate-secret",
    summary="Rotate a webhook endpoint's signing secret",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404),
)
async def rotate_webhook_secret(
    endpoint_id: str, request: Request, rt: RuntimeDep, _: MerchantWriter
) -> WebhookEndpointWithSecretOut:
    """Answers the new `secret`, this once. For 24 hours the previous secret keeps signing
    beside it: `webhook-signature` then carries both signatures, space-separated."""
    endpoint_id = check_id(endpoint_id, "webhook endpoint")
    return _with_secret(request, await webhook_endpoints.rotate_webhook_secret(rt, endpoint_id))


@router.get(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries",
    summary="List a webhook endpoint's deliveries",
    responses=responses(401, 403, 404, 422),
)
async def list_webhook_deliveries(
    endpoint_id: str,
    rt: RuntimeDep,
    _: MerchantReader,
    status: DeliveryStatus | None = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[WebhookDeliveryOut]:
    """One delivery per event the endpoint heard, newest first; `status` keeps those in it.
    `next_attempt_at` is when a pending one is tried next."""
    endpoint_id = check_id(endpoint_id, "webhook endpoint")
    page = await webhook_deliveries.list_deliveries(
        rt, endpoint_id, status=status, limit=limit, cursor=cursor_of(cursor)
    )
    return ListOut[WebhookDeliveryOut](**list_of(page, webhook_delivery_out))


@router.post(
    "/v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry",
    summary="Send a webhook delivery again now",
    dependencies=[Depends(idempotency_key_header)],
    responses=responses(400, 401, 403, 404, 409),
)
async def retry_webhook_delivery(
    endpoint_id: str, delivery_id: str, rt: RuntimeDep, _: MerchantWriter
) -> WebhookDeliveryOut:
    """Sends a pending or failed delivery now and answers it after the attempt (a succeeded
    one, or one being sent right now, is 409 `delivery_not_retryable`)."""
    endpoint_id = check_id(endpoint_id, "webhook endpoint")
    delivery_id = check_id(delivery_id, "webhook delivery")
    delivery = await webhook_deliveries.retry_delivery(rt, endpoint_id, delivery_id)
    return webhook_delivery_out(delivery)
