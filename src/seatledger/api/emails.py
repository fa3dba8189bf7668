"""Emails: what the engine wrote and sent, for the merchant (SPEC §10).

Merchant API keys only: a customer session's token is refused. An invitation's claim link shows
only while its seat is pending and the email still holds it (``seatledger.services.emails``);
otherwise the placeholder ``[invitation link]`` stands in its place.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from seatledger.api.auth import MerchantReader
from seatledger.api.common import (
    CursorParam,
    Limit,
    ListOut,
    OutModel,
    RuntimeDep,
    Timestamp,
    cursor_of,
    list_of,
)
from seatledger.api.json_body import JsonRoute
from seatledger.api.problems import responses
from seatledger.domain.ids import check_id
from seatledger.services import emails
from seatledger.services.emails import Email

router = APIRouter(tags=["emails"], route_class=JsonRoute)


class EmailOut(OutModel):
    id: str
    event_id: str
    to: str
    subject: str
    text: str
    html: str
    status: Literal["queued", "sent", "held", "failed"]
    attempts: int
    last_error: str | None
    created_at: Timestamp
    sent_at: Timestamp | None


def email_out(email: Email) -> EmailOut:
    return EmailOut(
        id=email.id,
        event_id=email.event_id,
        to=email.to,
        subject=email.subject,
        text=email.text,
        html=email.html,
        status=email.status,
        attempts=email.attempts,
        last_error=email.last_error,
        created_at=email.created_at,
        sent_at=email.sent_at,
    )


@router.get("/v1/emails", summary="List emails", responses=responses(401, 403, 422))
async def list_emails(
    rt: RuntimeDep,
    _: MerchantReader,
    to: Annotated[str | None, Query(max_length=254, description="The recipient.")] = None,
    event_id: Annotated[
        str | None, Query(max_length=40, description="The event the email was written for.")
    ] = None,
    limit: Limit = None,
    cursor: CursorParam = None,
) -> ListOut[EmailOut]:
    """Newest first; `to` matches case-insensitively (a 422 naming `to` when it is not an
    address). `status` is `queued` (to be sent, or retried after a temporary failure),
    `sent`, `failed` (refused, or undeliverable for 3 days) or `held` (no mail server is
    configured: kept, never sent). An invitation's link shows only while its seat is still
    pending and the email has not left yet (or is held); otherwise `[invitation link]`."""
    page = await emails.list_emails(
        rt, to=to, event_id=event_id, limit=limit, cursor=cursor_of(cursor), merchant=True
    )
    return ListOut[EmailOut](**list_of(page, email_out))


@router.get("/v1/emails/{email_id}", summary="Get an email", responses=responses(401, 403, 404))
async def get_email(email_id: str, rt: RuntimeDep, _: MerchantReader) -> EmailOut:
    """One email, its invitation link shown as in the list."""
    return email_out(await emails.get_email(rt, check_id(email_id, "email"), merchant=True))
