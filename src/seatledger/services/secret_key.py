"""The instance's secret key, which signs expiring links (file downloads).

``SEATLEDGER_SECRET_KEY`` when set; otherwise the key the migrations generated and stored in
``instance_secrets``, so that every process of one instance signs and verifies alike. Read once
per engine (it never changes while the instance runs). Should the row be missing (a restored
dump without it, a wiped table), a new key is stored once, first writer wins: links signed
before then stop working, which is their fate anyway after at most an hour.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from seatledger.adapters.db.instance import stored_secret_key
from seatledger.services.runtime import Runtime

# Per engine (its sync face, which a weak reference can follow): the key it read.
_keys: WeakKeyDictionary[object, str] = WeakKeyDictionary()


async def secret_key(rt: Runtime) -> str:
    """The key signing this instance's links. Call it outside any open unit of work."""
    if rt.settings.secret_key:
        return rt.settings.secret_key
    cached = _keys.get(rt.engine.sync_engine)
    if cached is None:
        cached = await stored_secret_key(rt.engine)
        _keys[rt.engine.sync_engine] = cached
    return cached


def forget_cached_keys() -> None:
    """Drop the keys read so far (for tests that replace the stored key)."""
    _keys.clear()
