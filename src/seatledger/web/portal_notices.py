"""Messages that outlive a redirect: a form's POST answers 303 to a page (POST → redirect → GET),
and what the POST did ("2 invited, 1 refused: no seat left") is shown once by that page.

They travel in a short-lived HttpOnly cookie (``sl_notice``), signed with the instance's secret
so that nobody can make the portal show a message it did not write, and cleared by the page
that shows them. A cookie holds about 4 KB: a long report keeps its first lines and says how
many more there were.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from seatledger.services.secret_key import secret_key
from seatledger.web.cookies import clear_cookie, runtime, set_cookie

COOKIE = "sl_notice"
MAX_AGE = 120  # seconds: long enough for the redirect, not for a stale message days later
# Bytes of JSON kept: base64 makes 4 of every 3, and the signature, the name and the flags must
# still fit in the 4096 bytes a browser keeps of a cookie.
_BUDGET = 2400


@dataclass(frozen=True, slots=True)
class Notice:
    text: str
    error: bool = False


async def _sign(request: Request, payload: str) -> str:
    key = await secret_key(runtime(request))
    return hmac.new(key.encode(), f"notice:{payload}".encode(), hashlib.sha256).hexdigest()


def _fitted(notices: list[Notice]) -> list[list[object]]:
    kept: list[list[object]] = []
    size = 0
    for index, notice in enumerate(notices):
        item: list[object] = [notice.text[:500], notice.error]
        size += len(json.dumps(item)) + 2  # and the ", " between items
        if size > _BUDGET:
            kept.append([f"… and {len(notices) - index} more.", False])
            break
        kept.append(item)
    return kept


async def redirect(request: Request, to: str, notices: list[Notice]) -> Response:
    """303 to ``to`` (a path of this server), carrying ``notices`` for its next render."""
    response = RedirectResponse(to, status_code=303)
    if notices:
        # Without base64's padding: a cookie value with "=" would be sent quoted.
        encoded = base64.urlsafe_b64encode(json.dumps(_fitted(notices)).encode())
        payload = encoded.decode().rstrip("=")
        value = f"{payload}.{await _sign(request, payload)}"
        set_cookie(request, response, COOKIE, value, max_age=MAX_AGE)
    return response


async def taken(request: Request) -> list[dict[str, object]]:
    """The notices waiting for this page (as ``base.html``'s ``flashes``); none when the cookie
    is absent, altered or unreadable. ``clear`` removes it from the answer."""
    value = request.cookies.get(COOKIE)
    if not value or "." not in value:
        return []
    payload, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, await _sign(request, payload)):
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (binascii.Error, ValueError):
        return []
    return [
        {"text": str(item[0]), "error": bool(item[1])}
        for item in items
        if isinstance(item, list) and len(item) == 2
    ]


def clear(request: Request, response: Response) -> None:
    if COOKIE in request.cookies:
        clear_cookie(request, response, COOKIE)


__all__ = ["COOKIE", "Notice", "clear", "redirect", "taken"]
