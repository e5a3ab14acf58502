"""Schema version 1: calls, ring tests, callback obligations, campaigns, run slots.

The first ringtest schema. A database written before Alembic with `schema_version`
1 is stamped with this revision and upgraded from here. Instants are
DateTime(timezone=True) and enums VARCHAR(64), as `ringtest.store.schema` stores them.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

INSTANT = sa.DateTime(timezone=True)
ENUM = sa.String(64)


def upgrade() -> None:
    schema_version = op.create_table(
        "schema_version",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint("id = 1", name="schema_version_single_row"),
    )
    op.bulk_insert(schema_version, [{"id": 1, "version": 1}])
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String, nullable=False),
        sa.Column("pbx", sa.String, nullable=False),
        sa.Column("line", sa.String, nullable=False),
        sa.Column("department", sa.String, nullable=False),
        sa.Column("caller", sa.String, nullable=False),
        sa.Column("dialled", sa.String, nullable=False),
        sa.Column("started_at", INSTANT, nullable=False),
        sa.Column("ring_started_at", INSTANT),
        sa.Column("answered_at", INSTANT),
        sa.Column("answered_by", ENUM, nullable=False),
        sa.Column("ended_at", INSTANT),
        sa.Column("ring_seconds", sa.Float),
        sa.Column("rings", sa.Integer),
        sa.Column("outcome", ENUM, nullable=False),
        sa.Column("within_standard", sa.Boolean, nullable=False),
        sa.Column("is_test_call", sa.Boolean, nullable=False),
        sa.Column("ivr_seconds", sa.Float),
        sa.Column("gap_note", sa.String),
        sa.PrimaryKeyConstraint("pbx", "call_id"),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_line_started_at", "calls", ["line", "started_at"])
    op.create_index("ix_calls_department_started_at", "calls", ["department", "started_at"])
    op.create_table(
        "ring_tests",
        sa.Column("test_id", sa.String, primary_key=True),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("account", sa.String, nullable=False),
        sa.Column("department", sa.String, nullable=False),
        sa.Column("placed_at", INSTANT, nullable=False),
        sa.Column("outcome", ENUM, nullable=False),
        sa.Column("answered_by", ENUM, nullable=False),
        sa.Column("pdd_seconds", sa.Float),
        sa.Column("ring_seconds", sa.Float),
        sa.Column("tta_seconds", sa.Float),
        sa.Column("rings", sa.Integer),
        sa.Column("within_standard", sa.Boolean, nullable=False),
        sa.Column("sip_code", sa.Integer),
        sa.Column("reason", sa.String, nullable=False),
        sa.Column("campaign", sa.String),
        sa.Column("callback_requested", sa.Boolean, nullable=False),
        sa.Column("evidence_path", sa.String),
    )
    op.create_index("ix_ring_tests_placed_at", "ring_tests", ["placed_at"])
    op.create_index("ix_ring_tests_department_placed_at", "ring_tests", ["department", "placed_at"])
    op.create_index("ix_ring_tests_campaign_placed_at", "ring_tests", ["campaign", "placed_at"])
    op.create_table(
        "callback_obligations",
        sa.Column("call_id", sa.String, nullable=False),
        sa.Column("pbx", sa.String, nullable=False),
        sa.Column("caller", sa.String, nullable=False),
        sa.Column("line", sa.String, nullable=False),
        sa.Column("department", sa.String, nullable=False),
        sa.Column("missed_at", INSTANT, nullable=False),
        sa.Column("deadline_at", INSTANT, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("closed_at", INSTANT),
        sa.Column("closing_call_id", sa.String),
        sa.Column("connected", sa.Boolean),
        sa.Column("working_seconds", sa.Float),
        sa.PrimaryKeyConstraint("pbx", "call_id"),
    )
    op.create_index("ix_callback_obligations_status", "callback_obligations", ["status"])
    op.create_index("ix_callback_obligations_deadline_at", "callback_obligations", ["deadline_at"])
    op.create_index("ix_callback_obligations_pbx_caller", "callback_obligations", ["pbx", "caller"])
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("source_path", sa.String, nullable=False),
        sa.Column("source_sha256", sa.String, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
    )
    op.create_table(
        "campaign_runs",
        sa.Column("campaign", sa.String, sa.ForeignKey("campaigns.name"), nullable=False),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("planned_at", INSTANT, nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("test_id", sa.String),
        sa.Column("reason", sa.String, nullable=False),
        sa.PrimaryKeyConstraint("campaign", "target", "planned_at"),
    )
    op.create_index("ix_campaign_runs_status_planned_at", "campaign_runs", ["status", "planned_at"])
