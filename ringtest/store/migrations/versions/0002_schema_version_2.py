"""Schema version 2: campaign definitions, run slots' call-back and start, callback tests.

Campaigns keep their definition, run slots whether they ask for a call-back and
when they started; callback tests are stored.

A campaign stored under version 1 gets an empty definition, which matches no
campaign file, so the campaign daemon takes it as changed and re-plans its slots
from now on at its next start. A slot stored under version 1 did not ask for a
call-back.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)
ENUM = sa.String(64)


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("definition", sa.Text, nullable=False, server_default=""))
    op.add_column(
        "campaign_runs",
        sa.Column("callback", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("campaign_runs", sa.Column("started_at", INSTANT))
    with op.batch_alter_table("campaigns") as campaigns:
        campaigns.alter_column("definition", server_default=None)
    with op.batch_alter_table("campaign_runs") as campaign_runs:
        campaign_runs.alter_column("callback", server_default=None)
    op.create_table(
        "callback_tests",
        sa.Column("test_id", sa.String, primary_key=True),
        sa.Column("account", sa.String, nullable=False),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("department", sa.String, nullable=False),
        sa.Column("callback_number", sa.String, nullable=False),
        sa.Column("reference", sa.String, nullable=False),
        sa.Column("left_at", INSTANT, nullable=False),
        sa.Column("deadline_at", INSTANT, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("closed_at", INSTANT),
        sa.Column("caller", sa.String),
        sa.Column("matched_by", ENUM),
        sa.Column("working_seconds", sa.Float),
        sa.Column("within_deadline", sa.Boolean),
    )
    op.create_index("ix_callback_tests_status_left_at", "callback_tests", ["status", "left_at"])
    op.execute("UPDATE schema_version SET version = 2")
