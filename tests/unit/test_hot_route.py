"""A ``HotRoute`` answers what FastAPI's own handling answers, and takes only the routes whose
inputs it can hand over directly."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from seatledger.api import problems
from seatledger.api.hot_route import hot_get
from seatledger.domain.errors import NotFound


class Counts(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    limit: int | None
    used: int = Field(serialization_alias="in_use")
    tags: list[str]


async def runtime(request: Request) -> dict[str, int]:
    return {"known": int(request.headers.get("x-known", "0"))}


Runtime = Annotated[dict[str, int], Depends(runtime)]


async def counts(thing_id: str, rt: Runtime) -> Counts:
    if thing_id == "missing":
        raise NotFound("company")
    return Counts(limit=None if thing_id == "open" else rt["known"], used=3, tags=["a", "é"])


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)
    router = APIRouter()
    router.get("/plain/{thing_id}", summary="Counts", responses={404: {}})(counts)
    hot_get(router, "/hot/{thing_id}", summary="Counts", responses={404: {}})(counts)
    app.include_router(router)
    return app


async def _both(path: str, headers: dict[str, str] | None = None) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return [await client.get(f"/{kind}{path}", headers=headers) for kind in ("plain", "hot")]


@pytest.mark.parametrize("path", ["/7", "/open", "/missing"])
async def test_it_answers_what_fastapi_answers(path: str) -> None:
    plain, hot = await _both(path, {"x-known": "12"})
    assert hot.status_code == plain.status_code
    assert hot.headers["content-type"] == plain.headers["content-type"]
    assert hot.content == plain.content
    if plain.status_code == 200:
        limit = 12 if path == "/7" else None
        assert hot.json() == {"limit": limit, "in_use": 3, "tags": ["a", "é"]}
    else:
        assert hot.json()["code"] == "not_found"


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


async def test_an_override_of_a_dependency_is_used() -> None:
    app = _app()

    async def known(request: Request) -> dict[str, int]:
        return {"known": 99}

    app.dependency_overrides[runtime] = known
    assert (await _get(app, "/hot/7")).json()["limit"] == 99


async def test_the_dependencies_of_its_router_are_solved_too() -> None:
    seen: list[str] = []

    async def audit(request: Request) -> None:
        seen.append(request.url.path)

    app = FastAPI()
    router = APIRouter()
    hot_get(router, "/hot/{thing_id}")(counts)
    app.include_router(router, dependencies=[Depends(audit)])
    assert (await _get(app, "/hot/7")).status_code == 200
    assert seen == ["/hot/7"]


def test_it_is_documented_as_the_route_it_replaces() -> None:
    paths = _app().openapi()["paths"]
    plain, hot = paths["/plain/{thing_id}"]["get"], paths["/hot/{thing_id}"]["get"]
    del plain["operationId"], hot["operationId"]
    assert hot == plain


async def _query(thing_id: str, page: Annotated[int, Query()] = 1) -> Counts:
    raise AssertionError


async def _body(thing_id: str, note: Annotated[str, Body()]) -> Counts:
    raise AssertionError


async def _number(thing_id: int) -> Counts:
    raise AssertionError


async def _nested(thing_id: str, rt: Annotated[Any, Depends(counts)]) -> Counts:
    raise AssertionError


def _sync_dependency(request: Request) -> int:
    return 1


async def _sync(thing_id: str, n: Annotated[int, Depends(_sync_dependency)]) -> Counts:
    raise AssertionError


async def _no_model(thing_id: str) -> dict[str, int]:
    raise AssertionError


def _not_async(thing_id: str) -> Counts:
    raise AssertionError


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        (_query, "query"),
        (_body, "body"),
        (_number, "not a str"),
        (_nested, "request alone"),
        (_sync, "request alone"),
        (_no_model, "not a model"),
        (_not_async, "not an async function"),
    ],
)
def test_a_route_it_cannot_hand_over_is_refused_when_declared(endpoint: Any, why: str) -> None:
    with pytest.raises(TypeError, match=why):
        hot_get(APIRouter(), "/x/{thing_id}")(endpoint)


def test_an_answer_shaped_by_options_is_refused() -> None:
    with pytest.raises(TypeError, match="encoded with options"):
        hot_get(APIRouter(), "/x/{thing_id}", response_model_exclude_none=True)(counts)
