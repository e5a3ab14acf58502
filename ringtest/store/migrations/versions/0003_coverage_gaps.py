"""Coverage gaps and the listener's last-seen instant per PBX.

The gaps when the listener did not see its PBX, and the last instant it did.

These two tables were added to schema version 2 without changing its number: a
version-2 database that has them is stamped with this revision, one without them
with 0002.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coverage_gaps",
        sa.Column("pbx", sa.String, nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("ended_at", INSTANT, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("pbx", "started_at"),
    )
    op.create_index("ix_coverage_gaps_ended_at", "coverage_gaps", ["ended_at"])
    op.create_table(
        "listener_state",
        sa.Column("pbx", sa.String, primary_key=True),
        sa.Column("seen_until", INSTANT, nullable=False),
    )
