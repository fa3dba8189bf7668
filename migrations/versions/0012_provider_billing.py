"""billing mode: a seat price's prices at the provider, and the subscriptions it bills

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

SPEC §7, ``billing`` mode. ``provider_prices`` keeps the provider's base and seats prices of
each seat price (made on first need); ``provider_subscriptions`` the provider's subscription of
each seatledger subscription it bills, with the state last mirrored from it and its seat
pushes (``synced_seats``, ``push_after``, the hour's window of pushes); ``provider_invoices``
the provider's invoices of those subscriptions, apart from seatledger's own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_prices",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("price_id", sa.String(length=40), nullable=False),
        sa.Column("base_price_id", sa.String(length=255), nullable=True),
        sa.Column("seats_price_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["price_id"], ["prices.id"], name=op.f("fk_provider_prices_price_id_prices")
        ),
        sa.PrimaryKeyConstraint("provider", "price_id", name=op.f("pk_provider_prices")),
    )
    op.create_table(
        "provider_subscriptions",
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("provider_subscription_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("stripe_seats", sa.Integer(), nullable=False),
        sa.Column("state_at", sa.Integer(), nullable=False),
        sa.Column("synced_seats", sa.Integer(), nullable=False),
        sa.Column("push_after", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_pushed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_start", UTCDateTime(timezone=True), nullable=True),
        sa.Column("window_pushes", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_provider_subscriptions_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_provider_subscriptions")),
        sa.UniqueConstraint(
            "provider_subscription_id",
            name=op.f("uq_provider_subscriptions_provider_subscription_id"),
        ),
    )

    op.create_table(
        "provider_invoices",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_provider_invoices_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_invoices")),
    )
    op.create_index(
        op.f("ix_provider_invoices_subscription_id"), "provider_invoices", ["subscription_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provider_invoices_subscription_id"), table_name="provider_invoices")
    op.drop_table("provider_invoices")
    op.drop_table("provider_subscriptions")
    op.drop_table("provider_prices")
