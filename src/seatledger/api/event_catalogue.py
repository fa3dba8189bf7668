"""The events of the catalogue as `/openapi.json` documents them: its `webhooks` (SPEC §10).

One entry per ``EventType``, its ``operationId`` the type with ``.`` → ``_``
(``seat_assigned``), whose request body is the event ``{id, type, created_at, data}`` with
``data`` typed as the object the API answers for it: the schemas are the routers' own response
models, never written twice. A type without an entry in ``DATA`` fails at start-up, so a new
type cannot go undocumented.

The same models render each event's ``data`` when it is emitted
(``seatledger.api.event_rendering``), so what is documented here is what is sent.
"""

from __future__ import annotations

import inspect
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Response
from pydantic import Field, create_model

from seatledger.api.checkouts import CheckoutOut
from seatledger.api.common import OutModel, Timestamp
from seatledger.api.companies import CompanyOut
from seatledger.api.grants import GrantOut
from seatledger.api.invoices import InvoiceOut
from seatledger.api.json_body import JsonRoute
from seatledger.api.members import MemberOut
from seatledger.api.orders import OrderOut
from seatledger.api.seats import SeatOut
from seatledger.api.subscriptions import SubscriptionOut
from seatledger.domain.events import EventType


class SeatsDriftOut(OutModel):
    """A subscription whose assigned seats exceed what it pays for (found and clamped)."""

    subscription: SubscriptionOut
    seats: int = Field(description="The seats the subscription pays for.")
    assigned_seats: int = Field(description="The seats found assigned.")
    stripe_seats: int = Field(description="The seats Stripe's line items pay for.")
    covered_seats: int = Field(
        description="The seats the subscription keeps: never fewer than its holders."
    )
    holders: int = Field(description="The pool's pending and claimed seats.")


class UsageThresholdOut(OutModel):
    """A company's seat usage of a product rose to one of its thresholds (its seat alerts)."""

    company_id: str
    product_id: str
    threshold: int = Field(description="The threshold reached, in percent of `limit`.")
    used: int = Field(description="The product's pending and claimed seats now.")
    limit: int = Field(description="The product's seat limit now.")


E = EventType
# What `data` is for each type: the object as the API answers it (a seat without its invitation).
DATA: dict[EventType, Any] = {
    E.CHECKOUT_COMPLETED: CheckoutOut,
    E.SUBSCRIPTION_CREATED: SubscriptionOut,
    E.SUBSCRIPTION_UPDATED: SubscriptionOut,
    E.SUBSCRIPTION_RENEWED: SubscriptionOut,
    E.SUBSCRIPTION_PAST_DUE: SubscriptionOut,
    E.SUBSCRIPTION_CANCELED: SubscriptionOut,
    E.SUBSCRIPTION_TRIAL_WILL_END: SubscriptionOut,
    E.SUBSCRIPTION_SEATS_DRIFT_DETECTED: SeatsDriftOut,
    E.ORDER_PAID: OrderOut,
    E.INVOICE_PAID: InvoiceOut,
    E.INVOICE_PAYMENT_FAILED: InvoiceOut,
    E.SEAT_ASSIGNED: SeatOut,
    E.SEAT_INVITATION_RESENT: SeatOut,
    E.SEAT_CLAIMED: SeatOut,
    E.SEAT_REVOKED: SeatOut,
    E.SEAT_USAGE_THRESHOLD_REACHED: UsageThresholdOut,
    E.BENEFIT_GRANT_CREATED: GrantOut,
    E.BENEFIT_GRANT_REVOKED: GrantOut,
    E.MEMBER_ADDED: MemberOut,
    E.MEMBER_REMOVED: MemberOut,
    E.COMPANY_CREATED: CompanyOut,
    E.COMPANY_UPDATED: CompanyOut,
}

WEBHOOK_DESCRIPTION = """\
Sent as `POST` to each enabled webhook endpoint whose `event_types` include `{type}` (or `*`),
signed per Standard Webhooks (`webhook-id` is the event id, `webhook-timestamp`,
`webhook-signature`). Any 2xx answer within 10 s acknowledges it; anything else is retried.
Delivery is at least once: drop duplicates by `id`. `GET /v1/events/{{id}}` answers the same
document."""


def operation_id(event_type: str) -> str:
    return event_type.replace(".", "_")


def event_model(event_type: EventType) -> type[OutModel]:
    """The event document of ``event_type``: ``SeatAssignedEvent`` and the like."""
    name = "".join(part.title() for part in operation_id(event_type).split("_")) + "Event"
    model: type[OutModel] = create_model(
        name,
        __base__=OutModel,
        id=(str, Field(description="The event id (`evt_…`), also the `webhook-id` header.")),
        type=(Literal[event_type.value], ...),  # type: ignore[arg-type]
        created_at=(Timestamp, ...),
        data=(DATA[event_type], ...),
    )
    return model


def _documented(model: type[OutModel]) -> Any:
    """An endpoint that only documents: its one parameter, the body, is ``model``."""

    async def receive(event: Any) -> None:
        """Never called: webhooks are sent by seatledger, not received."""

    parameter = inspect.Parameter(
        "event", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=model
    )
    receive.__signature__ = inspect.Signature([parameter], return_annotation=None)  # type: ignore[attr-defined]
    return receive


def install(app: FastAPI) -> None:
    """Document every event of the catalogue in ``app``'s ``webhooks``."""
    webhooks = APIRouter(route_class=JsonRoute)
    for event_type in EventType:
        webhooks.add_api_route(
            event_type.value,
            _documented(event_model(event_type)),
            methods=["POST"],
            name=operation_id(event_type),
            operation_id=operation_id(event_type),
            summary=event_type.value,
            description=WEBHOOK_DESCRIPTION.format(type=event_type.value),
            tags=["events"],
            response_class=Response,
            responses={200: {"description": "Acknowledged (any 2xx)."}},
        )
    app.webhooks = webhooks


__all__ = ["DATA", "SeatsDriftOut", "event_model", "install", "operation_id"]
