"""Merchant API keys: named, scoped (``read``, ``write``), shown once, stored as SHA-256 only.

    created ──revoke──▶ revoked   (final; the key stops working at once in this process, and
                                   within ``CACHE_TTL`` in every other one)

A key is ``sl_`` followed by 256 random bits (URL-safe base64); the table keeps its SHA-256 and
a short prefix to recognise it in listings, never the key. A key with only ``read`` may call
the API's reading routes; ``write`` is needed for every other.

Checking a key is one lookup on the unique index of ``key_hash``, reading only. Valid keys are
remembered by the runtime (``Runtime.api_keys``: a TTL cache of at most ``CACHE_SIZE`` keys,
each for ``CACHE_TTL`` seconds from its look-up, the least recently used leaving first when it
is full), so that a busy client costs no round trip per request: revoking through this process
forgets the key at once; a key revoked by another process (the CLI, another server) stops
working within ``CACHE_TTL``. Unknown keys are never cached, so a new key works at once
everywhere.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from seatledger.domain.api_key import ApiKey
from seatledger.domain.errors import NotFound, ValidationFailed
from seatledger.domain.ids import new_id
from seatledger.domain.text import text_problem
from seatledger.services.runtime import API_KEY_CACHE_SIZE, API_KEY_CACHE_TTL, Runtime

SCOPES: tuple[str, ...] = ("read", "write")
KEY_PREFIX = "sl_"
CACHE_TTL = API_KEY_CACHE_TTL  # seconds
CACHE_SIZE = API_KEY_CACHE_SIZE
MAX_NAME = 100
_SHOWN_PREFIX = len(KEY_PREFIX) + 8  # "sl_" and 8 characters: enough to tell keys apart
_MAX_KEY_LENGTH = 200


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    if isinstance(scopes, str) or not scopes:
        raise ValidationFailed.field("scopes", f"must be a non-empty list of {', '.join(SCOPES)}")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ValidationFailed.field("scopes", f"unknown scope {unknown[0]!r}")
    return tuple(scope for scope in SCOPES if scope in scopes)


async def create_api_key(
    rt: Runtime, *, name: str, scopes: Sequence[str] = SCOPES
) -> tuple[ApiKey, str]:
    """A new key and its plain value, which is shown this once and never stored."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValidationFailed.field("name", f"must be 1 to {MAX_NAME} characters")
    if (problem := text_problem(name.strip())) is not None:
        raise ValidationFailed.field("name", problem)
    checked = _check_scopes(scopes)
    plain = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=new_id("key"),
        name=name.strip(),
        prefix=plain[:_SHOWN_PREFIX],
        scopes=checked,
        created_at=rt.clock.now(),
    )
    async with rt.transaction() as uow:
        await uow.api_keys.add(key, hash_key(plain))
        uow.emit("api_key.created", {"api_key_id": key.id, "name": key.name, "scopes": checked})
        await uow.commit()
    return key, plain


async def list_api_keys(rt: Runtime) -> list[ApiKey]:
    """Every key, oldest first, revoked ones included (never the keys themselves)."""
    async with rt.reading() as uow:
        return await uow.api_keys.all()


async def revoke_api_key(rt: Runtime, key_id: str) -> ApiKey:
    """Revoke a key at once. Revoking again answers the key with its first ``revoked_at``."""
    async with rt.transaction() as uow:
        revoked = await uow.api_keys.revoke(key_id, rt.clock.now())
        if revoked is None:
            found = await uow.api_keys.get(key_id)
            if found is None:
                raise NotFound("API key")
            return found
        key, key_hash = revoked
        uow.emit("api_key.revoked", {"api_key_id": key.id, "name": key.name})
        await uow.commit()
    rt.api_keys.pop(key_hash, None)
    return key


async def authenticate_api_key(rt: Runtime, key: str) -> ApiKey | None:
    """The live key behind ``key``, or None (unknown, malformed or revoked)."""
    if not isinstance(key, str) or not key.startswith(KEY_PREFIX) or len(key) > _MAX_KEY_LENGTH:
        return None
    digest = hash_key(key)
    hit: ApiKey | None = rt.api_keys.get(digest)
    if hit is not None:
        return hit
    async with rt.reading() as uow:
        found = await uow.api_keys.live_by_hash(digest)
    if found is None:
        return None
    rt.api_keys[digest] = found
    return found


__all__ = [
    "CACHE_SIZE",
    "CACHE_TTL",
    "SCOPES",
    "ApiKey",
    "authenticate_api_key",
    "create_api_key",
    "hash_key",
    "list_api_keys",
    "revoke_api_key",
]
