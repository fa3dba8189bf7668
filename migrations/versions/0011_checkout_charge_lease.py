"""checkout charge lease: one card charged per checkout

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30

``checkouts.charging_method`` names the payment method whose charge a confirmation has taken on
(a conditional update in the database, so two concurrent confirmations cannot both take it): a
confirmation with another method is refused until that charge is declined (or the provider
could not be reached), which sets it back to null.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("charging_method", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.drop_column("charging_method")
