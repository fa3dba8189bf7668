"""Templates and the filters they share: money in the merchant's currency format, times.

``render(request, name, context)`` is every page's answer: it adds what the base layout needs
(the CSRF token for forms, the root path) and sets the CSRF cookie when the visitor has none.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from seatledger.pricing.display import display_money
from seatledger.web import csrf

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))


def money(amount: int, currency: str) -> str:
    """Minor units as people read them (``$1,234.50``, ``¥1,200``, ``BHD 1.250``): ISO 4217
    digits, exact (``seatledger.pricing.display``, which the invoice documents use too)."""
    return display_money(amount, currency)


def when(moment: datetime | None) -> str:
    """A time as the API writes it, readable: ``2031-01-16 12:00 UTC``."""
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def day(moment: datetime | None) -> str:
    """A date for invoice lines and periods: ``Jan 16, 2031``."""
    return "" if moment is None else f"{moment:%b} {moment.day}, {moment.year}"


templates.env.filters["money"] = money
templates.env.filters["when"] = when
templates.env.filters["day"] = day


async def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> HTMLResponse:
    """The page ``name`` with ``context``; forms in it carry the visitor's CSRF token."""
    token = await csrf.token(request)
    page = {"csrf_token": token, "root": request.scope.get("root_path", "").rstrip("/")}
    response = templates.TemplateResponse(request, name, {**page, **(context or {})})
    response.status_code = status
    csrf.keep(request, response)
    return response


__all__ = ["day", "money", "render", "templates", "when"]
