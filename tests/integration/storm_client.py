"""One client process of the assignment storm (``tests/integration/storm.py``):

    python -m tests.integration.storm_client BASE KEY PLAN CONNECTIONS

sends the attempts in the file PLAN (JSON: a list of ``[subscription_id, email]``) as
``POST /v1/seats`` to the server at BASE, at most CONNECTIONS at a time on one async client, and
prints one JSON object: how many answers of each kind (``"201"``, ``"409 no_seats_available"``,
…; a request that got no answer counts as ``"error <exception>"``) and the seats it got.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

TIMEOUT = 120.0  # seconds: the machine may be busy; a slow answer is still an answer


def outcome(response: httpx.Response) -> str:
    """The kind of an answer: its status, and the problem document's code when it has one."""
    if response.status_code == 201:
        return "201"
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    return f"{response.status_code} {code}"


async def storm(base: str, key: str, plan: list[list[str]], connections: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    seats: list[dict[str, str]] = []
    gate = asyncio.Semaphore(connections)
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=TIMEOUT
    ) as client:

        async def attempt(subscription_id: str, email: str) -> None:
            async with gate:
                try:
                    response = await client.post(
                        "/v1/seats", json={"subscription_id": subscription_id, "email": email}
                    )
                except httpx.HTTPError as error:
                    counts[f"error {type(error).__name__}"] += 1
                    return
            kind = outcome(response)
            counts[kind] += 1
            if kind == "201":
                body = response.json()
                seats.append({"id": body["id"], "subscription_id": subscription_id, "email": email})

        await asyncio.gather(*(attempt(sub, email) for sub, email in plan))
    return {"counts": dict(counts), "seats": seats}


def main() -> None:
    base, key, plan_file, connections = sys.argv[1:5]
    plan = json.loads(Path(plan_file).read_text())
    print(json.dumps(asyncio.run(storm(base, key, plan, int(connections)))))


if __name__ == "__main__":
    main()
