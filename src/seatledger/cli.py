"""The ``seatledger`` command."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, help="seatledger: a seat-based billing engine.")


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (SEATLEDGER_DATABASE_URL)."""
    from seatledger.adapters.db import migrations
    from seatledger.config import Settings

    settings = Settings.from_env()
    migrations.upgrade(settings.database_url)
    typer.echo("database is up to date")


def main() -> None:
    app()
