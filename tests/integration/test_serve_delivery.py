"""``seatledger serve`` delivers the outbox in the background, in each server process, unless
``--no-delivery`` (SPEC §10); a real server process on each test database."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from seatledger.adapters.db import tables as t
from seatledger.services import api_keys
from seatledger.services.runtime import Runtime
from tests.integration.processes import clean_environment, serving


async def _outbox(engine: AsyncEngine) -> tuple[int, int]:
    """(events, of which undelivered)."""
    async with engine.connect() as connection:
        total = (await connection.execute(select(func.count()).select_from(t.outbox))).scalar()
        query = select(func.count()).where(t.outbox.c.delivered_at.is_(None))
        return int(total or 0), int((await connection.execute(query)).scalar_one())


@pytest.mark.parametrize("delivering", [True, False], ids=["delivery", "no-delivery"])
async def test_serve_delivers_in_the_background_unless_told_not_to(
    runtime: Runtime,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    delivering: bool,
) -> None:
    monkeypatch.chdir(tmp_path)  # commands read the .env of the current folder: none
    _, key = await api_keys.create_api_key(runtime, name="serve")
    env = clean_environment(DATABASE_URL=database_url, SANDBOX="1")
    args = () if delivering else ("--no-delivery",)
    with serving(env, tmp_path, *args) as server:
        created = httpx.post(
            f"{server.base}/v1/companies",
            json={"name": "Acme", "billing_manager": {"email": "boss@acme.test"}},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        deadline = time.monotonic() + (30 if delivering else 3)  # rounds run every second
        while time.monotonic() < deadline:
            total, undelivered = await _outbox(runtime.engine)
            if undelivered == 0:
                break
            await asyncio.sleep(0.2)
    # api_key.created, company.created, member.added
    assert (total, undelivered) == ((3, 0) if delivering else (3, 3))
    log = server.output()
    assert "Traceback" not in log  # it stopped cleanly on SIGTERM
    assert ("events delivered" in log) == delivering
