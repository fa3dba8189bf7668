"""The ``seatledger`` command: serve, migrate, keys, worker, demo (SPEC §8).

Settings come from the environment (``seatledger.config``); every command that touches the
database uses ``SEATLEDGER_DATABASE_URL``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from seatledger.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
keys = typer.Typer(no_args_is_help=True, help="Merchant API keys: create, list, revoke.")
app.add_typer(keys, name="keys")

T = TypeVar("T")


def _with_runtime(work: Callable[..., Awaitable[T]]) -> T:
    """Run ``work(runtime)`` on a runtime built from the environment, then close it."""
    from seatledger.bootstrap import build_runtime

    async def run() -> T:
        runtime = build_runtime(Settings.from_env())
        try:
            return await work(runtime)
        finally:
            await runtime.engine.dispose()

    return asyncio.run(run())


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from seatledger.adapters.db import migrations

    migrations.upgrade(Settings.from_env().database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (PostgreSQL only).")] = 1,
) -> None:
    """Serve the HTTP API (run `seatledger migrate` first)."""
    import uvicorn

    uvicorn.run(
        "seatledger.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


@keys.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="What the key is for.")],
    read_only: Annotated[bool, typer.Option(help="Allow reads only.")] = False,
) -> None:
    """Create an API key. The key is printed once, as the last line."""
    from seatledger.domain.errors import ValidationFailed
    from seatledger.services import api_keys

    scopes = ("read",) if read_only else ("read", "write")
    try:
        key, plain = _with_runtime(lambda rt: api_keys.create_api_key(rt, name=name, scopes=scopes))
    except ValidationFailed as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created {key.id} ({key.name}, {' '.join(key.scopes)}); store it now:")
    typer.echo(plain)


@keys.command("list")
def keys_list() -> None:
    """List API keys (never the keys themselves)."""
    from seatledger.services import api_keys

    for key in _with_runtime(api_keys.list_api_keys):
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        typer.echo(f"{key.id}  {key.prefix}…  {key.name}  {' '.join(key.scopes)}  {state}")


@keys.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Revoke an API key at once."""
    from seatledger.services import api_keys

    key = _with_runtime(lambda rt: api_keys.revoke_api_key(rt, key_id))
    typer.echo(f"revoked {key.id} ({key.name})")


@app.command()
def worker(
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 30.0,
    once: Annotated[bool, typer.Option(help="Run one round and exit.")] = False,
) -> None:
    """Run due renewals, payment retries and scheduled cancellations, round after round."""
    from seatledger.worker.loop import run_worker

    _with_runtime(lambda rt: run_worker(rt, interval=interval, once=once, echo=typer.echo))


@app.command()
def demo() -> None:
    """Walk through seatledger's main flows on a throw-away database, with the amounts."""
    from seatledger.demo import run_demo

    asyncio.run(run_demo(typer.echo))


def main() -> None:
    app()
