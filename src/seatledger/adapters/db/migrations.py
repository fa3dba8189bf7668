"""Run the Alembic migrations in ``migrations/``: the only way the schema is built or changed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from seatledger.config import sync_database_url

MIGRATIONS = Path(__file__).resolve().parents[4] / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
