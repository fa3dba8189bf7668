"""A page and the API answer one error with one status: for every class of the error catalogue,
raised by a route of each kind (the API's problem documents, the portal's pages, the
dashboard's pages), the statuses agree, and none is a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from seatledger.domain.errors import catalogue
from seatledger.errors import SeatledgerError
from seatledger.web.dashboard.pages import DashboardRoute
from seatledger.web.portal_route import PortalRoute
from seatledger.web.statuses import status_for

KINDS: list[type[SeatledgerError]] = sorted(
    (kind for kinds in catalogue().values() for kind in kinds), key=lambda kind: kind.__name__
)


def _instance(kind: type[SeatledgerError]) -> SeatledgerError:
    """An error of ``kind`` with a plain detail, whatever its own constructor asks for."""
    error = kind.__new__(kind)
    SeatledgerError.__init__(error, f"{kind.__name__} raised on purpose")
    return error


def _raising(kind: type[SeatledgerError]) -> object:
    async def endpoint() -> None:
        raise _instance(kind)

    return endpoint


@pytest.fixture
def raising_app(app: FastAPI) -> FastAPI:
    """The real application with, per error class, a route of each kind that raises it."""
    for kind in KINDS:
        for edge, route_class in (
            ("api", APIRoute),
            ("portal", PortalRoute),
            ("dashboard", DashboardRoute),
        ):
            app.router.add_api_route(
                f"/raise/{edge}/{kind.__name__}",
                _raising(kind),  # type: ignore[arg-type]
                methods=["GET"],
                route_class_override=route_class,
                include_in_schema=False,
            )
    return app


async def test_every_catalogue_error_has_the_api_status_on_every_page(
    raising_app: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=raising_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for kind in KINDS:
            api = await client.get(f"/raise/api/{kind.__name__}")
            assert api.headers["content-type"] == "application/problem+json", kind
            assert api.json()["code"] == kind.code
            assert api.status_code != 500, kind
            for edge in ("portal", "dashboard"):
                page = await client.get(f"/raise/{edge}/{kind.__name__}")
                assert page.headers["content-type"].startswith("text/html"), (edge, kind)
                assert (edge, kind, page.status_code) == (edge, kind, api.status_code)
                assert f"{kind.__name__} raised on purpose" in page.text or page.status_code in {
                    403,
                    404,
                }
            # The checkout's and confirmation's forms answer with the same function.
            assert status_for(_instance(kind)) == api.status_code
