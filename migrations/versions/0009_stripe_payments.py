"""stripe payments: provider customers, hosted pages, the provider's events, invoice pay links

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

SPEC §7. ``payment_customers`` keeps the provider's customer of each seatledger customer (a
company, or a buyer's email before its company exists); ``hosted_pages`` a checkout's payment
pages at the provider; ``provider_events`` the provider's webhook events, once per id, until the
delivery loop has applied them; ``invoices.payment_url`` where the customer finishes a payment
that waits for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_url", sa.String(length=2000), nullable=True))
    op.create_table(
        "payment_customers",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("customer_key", sa.String(length=254), nullable=False),
        sa.Column("provider_customer_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "customer_key", name=op.f("pk_payment_customers")),
    )
    op.create_table(
        "hosted_pages",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("checkout_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkout_id"], ["checkouts.id"], name=op.f("fk_hosted_pages_checkout_id_checkouts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosted_pages")),
    )
    op.create_index(op.f("ix_hosted_pages_checkout_id"), "hosted_pages", ["checkout_id"])
    op.create_table(
        "provider_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name=op.f("ck_provider_events_status")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_provider_events_attempts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_events")),
    )
    op.create_index(
        "ix_provider_events_due",
        "provider_events",
        ["next_attempt_at"],
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_provider_events_due", table_name="provider_events")
    op.drop_table("provider_events")
    op.drop_index(op.f("ix_hosted_pages_checkout_id"), table_name="hosted_pages")
    op.drop_table("hosted_pages")
    op.drop_table("payment_customers")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_column("payment_url")
