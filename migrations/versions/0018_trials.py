"""free trials: a recurring price's trial days, a subscription's trial end and its status

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30

``prices.trial_days``: the free trial a recurring price starts its subscriptions with (null:
none; also in the price's ``definition``). ``subscriptions.trial_end``: when the trial, its
first period, ends, and ``trial_notified_at``: when its end was announced
(``subscription.trial_will_end``). A subscription in its trial is ``trialing``.
``checkouts.trial_days`` and ``amount_after_trial``: what a trial price's checkout says of its
trial.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_STATUSES = "status IN ('trialing', 'active', 'past_due', 'canceled')"
_STATUSES_BEFORE = "status IN ('active', 'past_due', 'canceled')"


def upgrade() -> None:
    # Not a batch: SQLite would copy the table and lose its immutability trigger.
    op.add_column("prices", sa.Column("trial_days", sa.Integer(), nullable=True))
    _immutable_prices(("trial_days",))
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("trial_end", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("trial_notified_at", UTCDateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_subscriptions_status"), type_="check")
        batch.create_check_constraint(op.f("ck_subscriptions_status"), _STATUSES)
    with op.batch_alter_table("checkouts") as batch:
        batch.add_column(sa.Column("trial_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("amount_after_trial", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkouts") as batch:
        batch.drop_column("amount_after_trial")
        batch.drop_column("trial_days")
    # A subscription still in its trial reads as active without it.
    op.execute("UPDATE subscriptions SET status = 'active' WHERE status = 'trialing'")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint(op.f("ck_subscriptions_status"), type_="check")
        batch.create_check_constraint(op.f("ck_subscriptions_status"), _STATUSES_BEFORE)
        batch.drop_column("trial_notified_at")
        batch.drop_column("trial_end")
    _immutable_prices(())
    op.drop_column("prices", "trial_days")


def _immutable_prices(extra: tuple[str, ...]) -> None:
    """The trigger that keeps a price's definition (and the columns copied from it) as written,
    covering ``extra`` columns too."""
    columns = ("definition", "currency", "interval", "product_id", "version", "seat_sync", *extra)
    if op.get_bind().dialect.name == "postgresql":
        changed = " OR ".join(
            "NEW.definition::text <> OLD.definition::text"
            if c == "definition"
            else f"NEW.{c} IS DISTINCT FROM OLD.{c}"
            for c in columns
        )
        op.execute(
            "CREATE OR REPLACE FUNCTION prices_immutable() RETURNS trigger AS $$\n"
            f"BEGIN\n    IF {changed} THEN\n"
            "        RAISE EXCEPTION 'prices are immutable: create a new version';\n"
            "    END IF;\n    RETURN NEW;\nEND $$ LANGUAGE plpgsql"
        )
        return
    op.execute("DROP TRIGGER IF EXISTS prices_immutable")
    op.execute(
        f"CREATE TRIGGER prices_immutable BEFORE UPDATE OF {', '.join(columns)} ON prices\n"
        "BEGIN\n    SELECT RAISE(ABORT, 'prices are immutable: create a new version');\nEND"
    )
