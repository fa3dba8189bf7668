"""Cookies the pages set: HttpOnly, ``SameSite=Lax``, and ``Secure`` unless the server is
reached over plain HTTP on the loopback (``http://127.0.0.1``, ``http://localhost``), where a
browser would not send a secure cookie back (SPEC §11)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request, Response

from seatledger.services.runtime import Runtime

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def secure(request: Request) -> bool:
    """Whether cookies must be ``Secure``: everywhere but plain HTTP on the loopback."""
    address = urlsplit(runtime(request).settings.public_url)
    return not (address.scheme == "http" and address.hostname in LOOPBACK)


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def clear_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure(request))


__all__ = ["clear_cookie", "runtime", "secure", "set_cookie"]
