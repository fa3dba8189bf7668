"""CSRF tokens on every form (SPEC §11): a signed double submit.

A visitor gets a random, HttpOnly cookie (``sl_csrf``) the first time a page renders a form; the
forms carry ``csrf_token`` = HMAC(instance secret, cookie). A POST is accepted only when its
token (the form field, or the ``X-CSRF-Token`` header htmx sends) matches the cookie it came
with: another site can make a browser send the cookie, but cannot read it or the page to learn
the token. Signing with the instance's secret keeps a cookie planted by a neighbouring
subdomain from being paired with a token of the attacker's choosing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from seatledger.services.secret_key import secret_key
from seatledger.web.cookies import runtime, set_cookie

COOKIE = "sl_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
_NEW = "csrf_new_cookie"


class CsrfRejected(Exception):
    """A POST without a token matching its cookie: nothing is done (answered 403)."""


async def _sign(request: Request, cookie: str) -> str:
    key = await secret_key(runtime(request))
    return hmac.new(key.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


async def token(request: Request) -> str:
    """The token this visitor's forms carry; a cookie is made (and set by ``keep``) if none."""
    cookie = request.cookies.get(COOKIE) or getattr(request.state, _NEW, None)
    if not cookie:
        cookie = secrets.token_urlsafe(32)
        setattr(request.state, _NEW, cookie)
    return await _sign(request, cookie)


def keep(request: Request, response: Response) -> None:
    """Set the cookie ``token`` made for this request, if it made one."""
    cookie = getattr(request.state, _NEW, None)
    if cookie:
        set_cookie(request, response, COOKIE, cookie, max_age=None)


async def verify(request: Request) -> None:
    """``CsrfRejected`` unless the request's token matches its cookie. Reads the form (the
    route reads it again from Starlette's cache)."""
    cookie = request.cookies.get(COOKIE)
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(sent, await _sign(request, cookie)):
        raise CsrfRejected


async def require(request: Request) -> None:
    """A route dependency: ``dependencies=[Depends(csrf.require)]`` on every POST."""
    await verify(request)


__all__ = ["COOKIE", "FIELD", "HEADER", "CsrfRejected", "keep", "require", "token", "verify"]
