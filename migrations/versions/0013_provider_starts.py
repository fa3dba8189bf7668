"""billing mode: the provider subscriptions waiting to be started; provider invoices shown

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

SPEC §7, ``billing`` mode. A checkout that completes a recurring purchase records here, in its
own transaction, that the provider's subscription is to be made; the delivery loop makes it
after commit and marks it started, so a crash between the two finishes on the next round.
``provider_invoices`` gains what the API shows of a provider's invoice (its billing reason,
hosted page, dates); ``checkouts`` the link where a buyer finishes a payment that waits for
them (3-D Secure).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_starts",
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("start_after", UTCDateTime(timezone=True), nullable=True),
        sa.Column("anchor", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_provider_starts_subscription_id_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("subscription_id", name=op.f("pk_provider_starts")),
    )
    op.create_index(
        op.f("ix_provider_starts_start_after"), "provider_starts", ["start_after"], unique=False
    )

    # Where the buyer finishes a checkout's payment that waits for them (3-D Secure).
    with op.batch_alter_table("checkouts") as batch:
        batch.add_column(sa.Column("payment_url", sa.String(length=2000), nullable=True))
    # What an invoice mirrored from the provider shows in seatledger's invoice shape.
    with op.batch_alter_table("provider_invoices") as batch:
        batch.add_column(sa.Column("billing_reason", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("hosted_url", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("created_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("period_start", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("period_end", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("paid_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkouts") as batch:
        batch.drop_column("payment_url")
    with op.batch_alter_table("provider_invoices") as batch:
        for column in (
            "paid_at",
            "period_end",
            "period_start",
            "created_at",
            "hosted_url",
            "billing_reason",
        ):
            batch.drop_column(column)
    op.drop_index(op.f("ix_provider_starts_start_after"), table_name="provider_starts")
    op.drop_table("provider_starts")
