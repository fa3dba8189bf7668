"""Reading the pages in tests without a browser: a form's CSRF token, and posting forms."""

from __future__ import annotations

import re
from typing import Any

import httpx

# A form's hidden field, or the header htmx sends (every page's body carries it).
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|"X-CSRF-Token": "([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token the page's forms carry (the client keeps the cookie it pairs with)."""
    found = _TOKEN.search(html)
    assert found is not None, html
    return found.group(1) or found.group(2)


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any], **kwargs: Any
) -> httpx.Response:
    """GET ``page`` (for its token and cookie), then POST ``data`` with it to ``action``."""
    shown = await client.get(page)
    token = csrf_token(shown.text)
    return await client.post(action, data={"csrf_token": token, **data}, **kwargs)
