"""The greeting audit of ring tests.

`greeting_audits`: one row per audited ring test (keyed by its test_id): what the
answerer said in the first seconds (the offline recogniser's transcript), and
whether the line's name was announced and the caller greeted (yes, no, unsure).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "greeting_audits",
        sa.Column("test_id", sa.String, primary_key=True),
        sa.Column("transcript", sa.String, nullable=False),
        sa.Column("announced_name", sa.String(64), nullable=False),
        sa.Column("greeted", sa.String(64), nullable=False),
        sa.Column("audited_at", sa.DateTime(timezone=True), nullable=False),
    )
