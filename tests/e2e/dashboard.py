"""Driving the dashboard's pages over HTTP (the ASGI app, no browser): sign in, read a page's
CSRF token, post its forms."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import httpx

from seatledger.services import dashboard_users
from seatledger.services.runtime import Runtime

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: httpx.Response) -> str:
    found = _TOKEN.search(page.text)
    assert found is not None, page.text[:500]
    return unescape(found.group(1))


async def new_user(runtime: Runtime, email: str = "ops@merchant.test") -> str:
    await dashboard_users.create_user(runtime, email=email, password=PASSWORD)
    return email


class Dashboard:
    """A browser-like client: the cookies it was given, the token of the last form page."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""

    async def get(self, path: str, expect: int | None = 200, **kwargs: Any) -> httpx.Response:
        page = await self.client.get(path, **kwargs)
        if expect is not None:
            assert page.status_code == expect, (path, page.status_code, page.text[:2000])
        if "csrf_token" in page.text:
            self.token = csrf_token(page)
        return page

    async def post(
        self, path: str, data: Any = None, expect: int | None = 303, *, token: bool = True
    ) -> httpx.Response:
        if not self.token:
            await self.get("/dashboard/login", None)
        pairs = list(data.items()) if isinstance(data, dict) else list(data or [])
        if token:
            pairs.append(("csrf_token", self.token))
        body: dict[str, list[str]] = {}
        for name, value in pairs:  # repeated names (tier rows) become lists
            body.setdefault(name, []).append(value)
        answer = await self.client.post(path, data=body)
        if expect is not None:
            assert answer.status_code == expect, (path, answer.status_code, answer.text[:3000])
        if "csrf_token" in answer.text:
            self.token = csrf_token(answer)
        return answer

    async def login(
        self, email: str, password: str = PASSWORD, expect: int = 303
    ) -> httpx.Response:
        await self.get("/dashboard/login", None)
        return await self.post("/dashboard/login", {"email": email, "password": password}, expect)
