"""Coverage gaps filled from the PBX's CDR.

`gap_fills`: one row per coverage gap the PBX's own history filled, keyed like the
gap (pbx, started_at), with how many calls it imported and how many incomplete
calls it completed. A gap without a row was not filled.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "gap_fills",
        sa.Column("pbx", sa.String, nullable=False),
        sa.Column("gap_started_at", INSTANT, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("filled_at", INSTANT, nullable=False),
        sa.Column("calls_imported", sa.Integer, nullable=False),
        sa.Column("calls_upgraded", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("pbx", "gap_started_at"),
    )
