"""instance secret

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

A one-row table holding the instance's own secret key (256 random bits, hex), generated here, so
that signed links (file downloads) verify in every process of the instance when
SEATLEDGER_SECRET_KEY is not set.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "instance_secrets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_key", sa.String(length=128), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_instance_secrets_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instance_secrets")),
    )
    op.bulk_insert(table, [{"id": 1, "secret_key": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("instance_secrets")
