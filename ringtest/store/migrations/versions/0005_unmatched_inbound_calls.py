"""Calls from the public that matched no line.

`unmatched_inbound_calls`: one row per inbound call whose dialled number matched
no `[[lines]]` entry, for `ringtest lines`. No caller number is kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "unmatched_inbound_calls",
        sa.Column("pbx", sa.String, nullable=False),
        sa.Column("call_id", sa.String, nullable=False),
        sa.Column("dialled", sa.String, nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("pbx", "call_id"),
    )
    op.create_index(
        "ix_unmatched_inbound_calls_started_at", "unmatched_inbound_calls", ["started_at"]
    )
