"""change charges: a subscription change's charge in flight

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30

``change_charges`` holds each charge a subscription change sent to the payment provider and
has not settled yet, under the idempotency key it went with, and the instant the change was
planned at. Written before the charge; deleted when the change is applied, its money kept as
credit, or the charge declined. A process killed while the provider answered leaves it behind:
the same change asked again (with or without an Idempotency-Key) is planned at that instant and
sent under that key, so the provider answers the charge it took, once; another change first
settles a charge abandoned for longer than a lease (its money becomes credit).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_charges",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_method", sa.String(length=100), nullable=False),
        sa.Column("customer", sa.String(length=254), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=False),
        sa.Column("planned_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("held_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_change_charges_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("idempotency_key", name=op.f("pk_change_charges")),
    )
    op.create_index(
        op.f("ix_change_charges_subscription_id"), "change_charges", ["subscription_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_change_charges_subscription_id"), table_name="change_charges")
    op.drop_table("change_charges")
