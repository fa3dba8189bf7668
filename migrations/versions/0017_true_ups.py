"""true-up: seat-count rises billed later, and a product's true-up interval

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30

``true_ups`` holds each seat-count rise made under true-up: the subscription, the price it is
priced at, its period, when it rose, from and to how many seats, and when it is billed (the
renewal, or a quarter's end); ``invoice_id`` is set by the invoice that bills it, in that
invoice's own transaction. ``products.true_up_interval`` is null (the true-up is billed at
renewal) or ``quarter``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.add_column(sa.Column("true_up_interval", sa.String(length=10), nullable=True))
    op.create_table(
        "true_ups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("price_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", UTCDateTime(timezone=True), nullable=False),
        sa.Column("period_end", UTCDateTime(timezone=True), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("seats_before", sa.Integer(), nullable=False),
        sa.Column("seats_after", sa.Integer(), nullable=False),
        sa.Column("bill_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=True),
        sa.CheckConstraint("seats_after > seats_before", name=op.f("ck_true_ups_rises")),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_true_ups_subscription_id_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["price_id"], ["prices.id"], name=op.f("fk_true_ups_price_id_prices")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_true_ups_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_true_ups")),
    )
    op.create_index(op.f("ix_true_ups_subscription_id"), "true_ups", ["subscription_id"])
    op.create_index(
        "ix_true_ups_bill_at_unbilled",
        "true_ups",
        ["bill_at"],
        sqlite_where=sa.text("invoice_id IS NULL"),
        postgresql_where=sa.text("invoice_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_true_ups_bill_at_unbilled", table_name="true_ups")
    op.drop_index(op.f("ix_true_ups_subscription_id"), table_name="true_ups")
    op.drop_table("true_ups")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("true_up_interval")
