"""a pool closes when its subscription is canceled

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

``seat_pools.closed_at``: when the pool's subscription was canceled. An assignment's conditional
update checks it on the pool's own row, which PostgreSQL re-reads after waiting for that row's
lock; the owner's status, read in a subquery, comes from the snapshot taken before the wait,
so an assignment queued behind a cancellation used to take a seat in the canceled pool.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("seat_pools", sa.Column("closed_at", UTCDateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE seat_pools SET closed_at = (SELECT COALESCE(canceled_at, seat_pools.created_at)"
        " FROM subscriptions"
        " WHERE subscriptions.id = seat_pools.id)"
        " WHERE id IN (SELECT id FROM subscriptions WHERE status = 'canceled')"
    )


def downgrade() -> None:
    with op.batch_alter_table("seat_pools") as batch:
        batch.drop_column("closed_at")
