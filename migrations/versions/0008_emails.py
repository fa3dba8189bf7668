"""emails: the invitation link kept apart from the rendered text until it is sent

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-21

SPEC §5, §10. An invitation email's text and HTML are stored with a placeholder where the claim
link goes; the link itself sits in ``emails.link`` only until the email is sent or fails (a
held email keeps it: it is the only copy), so no plain token outlives its need at rest.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("emails", schema=None) as batch_op:
        batch_op.drop_column("link")
