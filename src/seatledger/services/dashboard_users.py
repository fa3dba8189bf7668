"""Dashboard users: created by ``seatledger users create``, signed in with email and password,
kept signed in by a server-side session (``seatledger.domain.dashboard_user`` has the rules).

Sessions and throttling go by the wall clock, not the runtime's: moving the sandbox clock a
month ahead from the dashboard must not sign its user out. ``now`` may be given (tests).

Passwords are hashed with argon2 (argon2-cffi's defaults, RFC 9106's second recommended
profile), in a worker thread: a hash costs tens of milliseconds the event loop must not wait
for. An unknown email costs a hash too, so the answer's timing does not tell who has an
account. A session's token is 256 random bits, stored as its SHA-256.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from seatledger.domain.dashboard_user import (
    MAX_PASSWORD,
    SESSION_IDLE,
    THROTTLE_WINDOW,
    DashboardSession,
    DashboardUser,
    LoginFailed,
    LoginThrottled,
    check_password,
    session_end,
)
from seatledger.domain.emails import normalize_email
from seatledger.domain.ids import new_id
from seatledger.services.runtime import Runtime

TOKEN_PREFIX = "ds_"
MAX_CLIENT = 100
# A session's last use is written at most this often: not one write per page.
TOUCH_EVERY_SECONDS = 60
_hasher = PasswordHasher()
# Verified against when the email is unknown, so that both answers take as long.
_DECOY = _hasher.hash(secrets.token_urlsafe(16))


def wall_now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(rt: Runtime, *, email: str, password: str) -> DashboardUser:
    """A new dashboard login; ``ValidationFailed`` for a bad or taken email, a weak password."""
    address = normalize_email(email)
    checked = check_password(password)
    password_hash = await asyncio.to_thread(_hasher.hash, checked)
    user = DashboardUser(id=new_id("usr"), email=address, created_at=rt.clock.now())
    async with rt.transaction() as uow:
        await uow.dashboard_users.add(user, password_hash)
        await uow.commit()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def login(
    rt: Runtime, *, email: object, password: object, client: str, now: datetime | None = None
) -> tuple[DashboardSession, str]:
    """A new session and its token. ``LoginThrottled`` before anything is checked when too many
    logins failed lately; ``LoginFailed`` (recorded) for a wrong email or password."""
    now = now or wall_now()
    address = email.strip().lower()[:254] if isinstance(email, str) else ""
    secret = password if isinstance(password, str) else ""
    client = client[:MAX_CLIENT]
    async with rt.reading() as uow:
        users = uow.dashboard_users
        throttle = await users.throttle(address, client, now - THROTTLE_WINDOW)
        found = await users.with_email(address)
    if (wait := throttle.retry_after(now)) is not None:
        raise LoginThrottled(wait)
    # The hash is checked with no transaction open: it takes a while.
    known, password_hash = found if found is not None else (None, _DECOY)
    ok = 0 < len(secret) <= MAX_PASSWORD and await asyncio.to_thread(_verify, password_hash, secret)
    if known is None or not ok:
        async with rt.transaction() as uow:
            await uow.dashboard_users.add_failure(address, client, now)
            await uow.commit()
        raise LoginFailed()
    return await _open_session(rt, known, password_hash, secret, now)


async def _open_session(
    rt: Runtime, user: DashboardUser, password_hash: str, password: str, now: datetime
) -> tuple[DashboardSession, str]:
    rehashed = None
    if _hasher.check_needs_rehash(password_hash):
        rehashed = await asyncio.to_thread(_hasher.hash, password)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session = DashboardSession(new_id("dsess"), user, now, now, session_end(now))
    async with rt.transaction() as uow:
        users = uow.dashboard_users
        if rehashed is not None:
            await users.set_password_hash(user.id, rehashed)
        await users.forget_failures(user.email, now - THROTTLE_WINDOW)
        await users.end_sessions_before(now - SESSION_IDLE, now)
        await users.add_session(session, _token_hash(token))
        await uow.commit()
    return session, token


async def authenticate(
    rt: Runtime, token: object, *, now: datetime | None = None
) -> DashboardSession | None:
    """The live session behind ``token``, or None (unknown, ended, idle or past its end)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    now = now or wall_now()
    async with rt.reading() as uow:
        session = await uow.dashboard_users.session(_token_hash(token))
    if session is None or not session.live_at(now):
        return None
    if (now - session.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS:
        async with rt.transaction() as uow:
            await uow.dashboard_users.touch(session.id, now)
            await uow.commit()
    return session


async def logout(rt: Runtime, token: object) -> None:
    """End the session behind ``token`` (nothing when there is none)."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        return
    async with rt.transaction() as uow:
        await uow.dashboard_users.end_session(_token_hash(token))
        await uow.commit()


__all__ = ["TOKEN_PREFIX", "authenticate", "create_user", "login", "logout", "wall_now"]
