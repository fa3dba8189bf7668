"""seat alerts: per company and product, usage thresholds and whether each is reached

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30

``seat_alerts`` holds a company's thresholds (percent of a product's seat limit) and, per
threshold, when usage last rose to it (``reached_at``; null while usage is below: armed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from seatledger.adapters.db.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seat_alerts",
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("reached_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "threshold >= 1 AND threshold <= 100", name=op.f("ck_seat_alerts_threshold")
        ),
        sa.ForeignKeyConstraint(
            ["company_id"], ["companies.id"], name=op.f("fk_seat_alerts_company_id_companies")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_seat_alerts_product_id_products")
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "product_id", "threshold", name=op.f("pk_seat_alerts")
        ),
    )


def downgrade() -> None:
    op.drop_table("seat_alerts")
