"""subscription billing

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

What renewals and collection need beyond 0003:
* ``subscriptions.payment_customer``: the payment provider's customer a subscription's checkout
  charged (the buyer's email, or the company), so that renewals charge the same customer;
  filled from the checkouts for existing subscriptions;
* the renewal scan's index covers live subscriptions only (canceled ones never renew, and
  would otherwise pile up in it);
* payments are looked up by provider reference (a replayed charge is recognised).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LIVE = sa.text("status <> 'canceled'")


def upgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payment_customer", sa.String(length=254), nullable=True))
        batch_op.drop_index(batch_op.f("ix_subscriptions_current_period_end"))
        batch_op.create_index(
            "ix_subscriptions_renewal_due",
            ["current_period_end", "id"],
            unique=False,
            sqlite_where=_LIVE,
            postgresql_where=_LIVE,
        )
    op.execute(
        "UPDATE subscriptions SET payment_customer = ("
        " SELECT COALESCE(checkouts.customer_email, checkouts.company_id) FROM checkouts"
        " WHERE checkouts.subscription_id = subscriptions.id)"
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_provider_reference"), ["provider_reference"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_provider_reference"))
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_subscriptions_renewal_due", sqlite_where=_LIVE, postgresql_where=_LIVE
        )
        batch_op.create_index(
            batch_op.f("ix_subscriptions_current_period_end"), ["current_period_end"], unique=False
        )
        batch_op.drop_column("payment_customer")
