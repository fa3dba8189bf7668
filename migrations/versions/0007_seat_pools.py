"""seat pools: one table for the seats a subscription or an order bought

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-27

A subscription and an order each own one row of ``seat_pools``, keyed by the owner's own id;
``seats`` and ``assigned_seats`` move there from the owners (and are kept nowhere else), and a
seat points at its pool with one ``pool_id`` instead of ``subscription_id`` or ``order_id``. The
doubled partial unique indexes become one pair (per pool: live email, live member). Every row
moves: a pool per subscription and per order with its counts, and each seat's pool is the
subscription or order it had. ``downgrade`` puts the counts and the links back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LIVE = "status <> 'revoked'"


def upgrade() -> None:
    op.create_table(
        "seat_pools",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("assigned_seats", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "assigned_seats >= 0 AND assigned_seats <= seats",
            name=op.f("ck_seat_pools_assigned_seats"),
        ),
        sa.CheckConstraint("kind IN ('subscription', 'order')", name=op.f("ck_seat_pools_kind")),
        sa.CheckConstraint("seats >= 1", name=op.f("ck_seat_pools_seats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_pools")),
    )
    for owner, kind in (("subscriptions", "subscription"), ("orders", "order")):
        op.execute(
            f"INSERT INTO seat_pools (id, kind, seats, assigned_seats, created_at) "
            f"SELECT id, '{kind}', seats, assigned_seats, created_at FROM {owner}"
        )
        with op.batch_alter_table(owner, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{owner}_assigned_seats"), type_="check")
            batch_op.drop_constraint(op.f(f"ck_{owner}_seats"), type_="check")
            batch_op.drop_column("assigned_seats")
            batch_op.drop_column("seats")
            batch_op.create_foreign_key(
                op.f(f"fk_{owner}_id_seat_pools"), "seat_pools", ["id"], ["id"]
            )

    with op.batch_alter_table("seats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pool_id", sa.String(length=40), nullable=True))
    op.execute("UPDATE seats SET pool_id = COALESCE(subscription_id, order_id)")
    with op.batch_alter_table("seats", schema=None) as batch_op:
        for name in (
            "uq_seats_subscription_member",
            "uq_seats_subscription_email",
            "uq_seats_order_member",
            "uq_seats_order_email",
            "ix_seats_subscription",
            "ix_seats_order",
        ):
            batch_op.drop_index(name)
        batch_op.drop_constraint(op.f("ck_seats_exactly_one_pool"), type_="check")
        batch_op.drop_constraint(op.f("fk_seats_subscription_id_subscriptions"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_seats_order_id_orders"), type_="foreignkey")
        batch_op.drop_column("subscription_id")
        batch_op.drop_column("order_id")
        batch_op.alter_column("pool_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.create_foreign_key(
            op.f("fk_seats_pool_id_seat_pools"), "seat_pools", ["pool_id"], ["id"]
        )
        batch_op.create_index("ix_seats_pool", ["pool_id", "status"], unique=False)
        batch_op.create_index(
            "uq_seats_pool_email",
            ["pool_id", "email"],
            unique=True,
            sqlite_where=sa.text(_LIVE),
            postgresql_where=sa.text(_LIVE),
        )
        batch_op.create_index(
            "uq_seats_pool_member",
            ["pool_id", "member_id"],
            unique=True,
            sqlite_where=sa.text(f"{_LIVE} AND member_id IS NOT NULL"),
            postgresql_where=sa.text(f"{_LIVE} AND member_id IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("seats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subscription_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("order_id", sa.String(length=40), nullable=True))
    for kind, column in (("subscription", "subscription_id"), ("order", "order_id")):
        op.execute(
            f"UPDATE seats SET {column} = pool_id WHERE pool_id IN "
            f"(SELECT id FROM seat_pools WHERE kind = '{kind}')"
        )
    with op.batch_alter_table("seats", schema=None) as batch_op:
        batch_op.drop_index("uq_seats_pool_member")
        batch_op.drop_index("uq_seats_pool_email")
        batch_op.drop_index("ix_seats_pool")
        batch_op.drop_constraint(op.f("fk_seats_pool_id_seat_pools"), type_="foreignkey")
        batch_op.drop_column("pool_id")
        batch_op.create_foreign_key(
            op.f("fk_seats_subscription_id_subscriptions"),
            "subscriptions",
            ["subscription_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            op.f("fk_seats_order_id_orders"), "orders", ["order_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_seats_exactly_one_pool"), "(subscription_id IS NULL) <> (order_id IS NULL)"
        )
        batch_op.create_index("ix_seats_subscription", ["subscription_id", "status"])
        batch_op.create_index("ix_seats_order", ["order_id", "status"])
        for owner, column in (("subscription", "subscription_id"), ("order", "order_id")):
            batch_op.create_index(
                f"uq_seats_{owner}_email",
                [column, "email"],
                unique=True,
                sqlite_where=sa.text(f"{_LIVE} AND {column} IS NOT NULL"),
                postgresql_where=sa.text(f"{_LIVE} AND {column} IS NOT NULL"),
            )
            batch_op.create_index(
                f"uq_seats_{owner}_member",
                [column, "member_id"],
                unique=True,
                sqlite_where=sa.text(f"{_LIVE} AND member_id IS NOT NULL"),
                postgresql_where=sa.text(f"{_LIVE} AND member_id IS NOT NULL"),
            )

    for owner in ("subscriptions", "orders"):
        with op.batch_alter_table(owner, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"fk_{owner}_id_seat_pools"), type_="foreignkey")
            batch_op.add_column(sa.Column("seats", sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column(
                    "assigned_seats", sa.Integer(), server_default=sa.text("0"), nullable=True
                )
            )
        op.execute(
            f"UPDATE {owner} SET "
            f"seats = (SELECT seats FROM seat_pools WHERE seat_pools.id = {owner}.id), "
            f"assigned_seats = (SELECT assigned_seats FROM seat_pools "
            f"WHERE seat_pools.id = {owner}.id)"
        )
        with op.batch_alter_table(owner, schema=None) as batch_op:
            batch_op.alter_column("seats", existing_type=sa.Integer(), nullable=False)
            batch_op.alter_column(
                "assigned_seats",
                existing_type=sa.Integer(),
                existing_server_default=sa.text("0"),
                nullable=False,
            )
            batch_op.create_check_constraint(op.f(f"ck_{owner}_seats"), "seats >= 1")
            batch_op.create_check_constraint(
                op.f(f"ck_{owner}_assigned_seats"),
                "assigned_seats >= 0 AND assigned_seats <= seats",
            )
    op.drop_table("seat_pools")
