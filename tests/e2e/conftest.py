"""HTTP fixtures: the app over the test runtime (both databases), a client, API keys, and a
small helper that builds the usual objects through the API itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from seatledger.api.app import create_app
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from tests.e2e.api import Api
from tests.e2e.portal import Shop, Visitor, shop


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://seatledger.test") as client:
        yield client


@pytest.fixture
async def key(runtime: Runtime) -> str:
    _, plain = await api_keys.create_api_key(runtime, name="backend")
    return plain


@pytest.fixture
def api(client: httpx.AsyncClient, key: str, runtime: Runtime) -> Api:
    return Api(client, key, runtime)


# The billing manager's portal (tests/e2e/test_portal_manager*.py): Acme and its manager's
# browser-less visitor.
@pytest.fixture
async def acme(api: Api) -> Shop:
    return await shop(api)


@pytest.fixture
async def manager(app: FastAPI, acme: Shop) -> AsyncIterator[Visitor]:
    visitor = Visitor(app, acme.manager_token)
    yield visitor
    await visitor.aclose()
