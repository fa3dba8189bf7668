"""Customer sessions: a bearer token that lets one member act in the customer portal and the API.

    created ──SESSION_TTL passes──▶ expired        (removed members' sessions stop at once)

The merchant creates one for a member (``POST /v1/customer-sessions``), and claiming a seat
creates one for the claimer. The token is ``cs_`` and 256 random bits, shown once; the table
keeps its SHA-256. What a session may do follows the member's *current* role, read on each
check: handing the billing manager role over takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from seatledger.adapters.db.unit_of_work import UnitOfWork
from seatledger.domain.company import Role
from seatledger.domain.errors import NotFound
from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime

TOKEN_PREFIX = "cs_"
SESSION_TTL = timedelta(hours=24)
_MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just created: the token is shown this once."""

    id: str
    member_id: str
    company_id: str
    token: str
    portal_url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionMember:
    """Who a valid session token speaks for."""

    session_id: str
    member_id: str
    company_id: str
    role: Role
    expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_customer_session(
    rt: Runtime, member_id: str, *, field: str = "member_id"
) -> NewSession:
    """A session for a current member; ``NotFound`` naming ``field`` otherwise."""
    async with rt.transaction() as uow:
        session = await open_session(uow, rt, member_id, field=field)
        await uow.commit()
    return session


async def open_session(
    uow: UnitOfWork,
    rt: Runtime,
    member_id: str,
    *,
    field: str = "member_id",
    company_id: str | None = None,
) -> NewSession:
    """Inside a caller's unit of work (a claim opens its claimer's session in the same
    transaction, so a claim never stands without the session it promised); does not commit.
    ``company_id``: the caller knows the member is live and the company's (a claim just made
    it the seat's holder), so it is not read again."""
    now = rt.clock.now()
    if company_id is None:
        member = await uow.members.get(member_id)
        if member is None:
            raise NotFound("member", field=field)
        company_id = member.company_id
    session, row, payload = drafted_session(rt, member_id, company_id, now)
    await uow.customer_sessions.add(row)
    uow.emit("customer_session.created", payload)
    return session


def drafted_session(
    rt: Runtime, member_id: str, company_id: str, now: datetime
) -> tuple[NewSession, dict[str, object], dict[str, object]]:
    """A new session for the member, its ``customer_sessions`` row and its event's payload
    (written by the caller: a claim on PostgreSQL writes them in its one statement)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session = NewSession(
        id=new_id("cs"),
        member_id=member_id,
        company_id=company_id,
        token=token,
        portal_url=f"{rt.settings.public_url}/portal?session={quote(token, safe='')}",
        expires_at=now + SESSION_TTL,
    )
    row: dict[str, object] = {
        "id": session.id,
        "member_id": session.member_id,
        "token_hash": hash_token(token),
        "expires_at": session.expires_at,
        "created_at": now,
    }
    payload: dict[str, object] = {
        "customer_session_id": session.id,
        "member_id": session.member_id,
        "company_id": session.company_id,
        "expires_at": session.expires_at.isoformat(),
    }
    return session, row, payload


async def authenticate_session(rt: Runtime, token: str) -> SessionMember | None:
    """The member a live token speaks for (one indexed lookup), or None."""
    if (
        not isinstance(token, str)
        or not token.startswith(TOKEN_PREFIX)
        or len(token) > _MAX_TOKEN_LENGTH
    ):
        return None
    async with rt.reading() as uow:
        found = await uow.customer_sessions.live(hash_token(token), rt.clock.now())
    if found is None:
        return None
    return SessionMember(
        session_id=found.session_id,
        member_id=found.member_id,
        company_id=found.company_id,
        role=found.role,
        expires_at=found.expires_at,
    )


__all__ = [
    "SESSION_TTL",
    "NewSession",
    "SessionMember",
    "authenticate_session",
    "create_customer_session",
    "drafted_session",
]
