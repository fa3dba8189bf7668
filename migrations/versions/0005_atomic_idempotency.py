"""atomic idempotency

Revision ID: 0005
Revises: 0004
Create Date: 2027-01-10

An Idempotency-Key's row is now written in the transaction of the work it answers for
(``seatledger.services.idempotency``):
* ``status``: ``started`` (a step of the request committed before a payment provider was
  called; a retry runs the request again from what the database holds) or ``done`` (the answer
  is stored). A ``running`` row of the old scheme was a request whose answer never came: it
  becomes ``started``, which a retry may run again, as its lease allowed before;
* ``recovery``: what such a retry resumes from (the instant a subscription change was planned
  at, so that it is charged under the same provider key);
* ``response_withheld``: the fields left out of a stored answer (its secrets: tokens, grants'
  properties), which a replay names in its ``Idempotent-Withheld`` header;
* stored answers no longer hold secrets, and public claims are no longer keyed by their token
  in plain text: the rows of the routes that answered invitation or session tokens (assign,
  resend, customer sessions, claims) are deleted. They are at most a day old; a retry of one
  runs again and meets the state the first left (a used token, a seat already assigned).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SECRET_ROUTES = (
    "path = '/v1/seats' OR path = '/v1/customer-sessions'"
    " OR path LIKE '/v1/seats/%/resend' OR path LIKE '/v1/claims/%'"
)


def upgrade() -> None:
    op.execute(f"DELETE FROM idempotency_keys WHERE {_SECRET_ROUTES}")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_idempotency_keys_status"), type_="check")
        batch_op.add_column(sa.Column("response_withheld", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("recovery", sa.JSON(), nullable=True))
    op.execute("UPDATE idempotency_keys SET status = 'started' WHERE status = 'running'")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_idempotency_keys_status"), "status IN ('started', 'done')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM idempotency_keys WHERE status = 'started'")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_idempotency_keys_status"), type_="check")
        batch_op.drop_column("recovery")
        batch_op.drop_column("response_withheld")
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_idempotency_keys_status"), "status IN ('running', 'done')"
        )
