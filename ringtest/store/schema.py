"""The database schema: every table ringtest stores, as plain SQLAlchemy Core columns.

Each record table has one column per field of its frozen record, with the same
name, so a row converts to its record with `Record(**row)` and back field by
field. Instants are `UtcDateTime` (aware UTC in, aware UTC out, on SQLite and
PostgreSQL alike); enums are stored as their string values.

A change to a table here needs an Alembic revision that makes the same change
to a stored database (`ringtest/store/migrations/versions/`, see
`ringtest.store.migrate`); a test fails while the revisions' head and these tables
differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.schema import SchemaItem

from ringtest.core.records import (
    AnsweredBy,
    CallbackMatch,
    CallbackStatus,
    CallbackTestStatus,
    CallOutcome,
    GapReason,
    Heard,
    RingTestOutcome,
    RunStatus,
)

SCHEMA_VERSION = 3
"""The single row of `schema_version` since Alembic keeps the schema's revision: the
ringtest releases before it knew versions 1 and 2 only, so they refuse a database
with 3 instead of writing into a schema they do not know. It never changes again."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC instant on every backend; naive datetimes are refused.

    SQLite has no time zones: it keeps the UTC wall time as text and returns it
    naive, so it is marked UTC on the way out. PostgreSQL keeps a `timestamptz`
    and returns it in the session's zone, so it is converted to UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} cannot be stored: "
                "pass a timezone-aware datetime (UTC)"
            )
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _enum(enum_class: type[StrEnum]) -> Enum:
    """A column of `enum_class` stored as its string values in a plain VARCHAR."""
    return Enum(
        enum_class,
        native_enum=False,
        length=64,
        values_callable=lambda members: [member.value for member in members],
    )


# Column groups that recur, in the same order, in more than one table.


def _call_key() -> tuple[SchemaItem, ...]:
    """A call's natural key: its Linkedid (`call_id`) on the PBX that carried it (`pbx`)."""
    return (
        Column("call_id", String, nullable=False),
        Column("pbx", String, nullable=False),
        PrimaryKeyConstraint("pbx", "call_id"),
    )


def _line_and_department() -> tuple[Column[Any], ...]:
    """The monitored line a call came in on, and the department that answers it."""
    return (
        Column("line", String, nullable=False),
        Column("department", String, nullable=False),
    )


def _deadline(status: type[StrEnum]) -> tuple[Column[Any], ...]:
    """A callback owed by a deadline (UTC), where it stands, and when it was closed (UTC;
    None while open)."""
    return (
        Column("deadline_at", UtcDateTime, nullable=False),
        Column("status", _enum(status), nullable=False),
        Column("closed_at", UtcDateTime),
    )


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    CheckConstraint("id = 1", name="schema_version_single_row"),
)

calls = Table(
    "calls",
    metadata,
    *_call_key(),
    *_line_and_department(),
    Column("caller", String, nullable=False),
    Column("dialled", String, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ring_started_at", UtcDateTime),
    Column("answered_at", UtcDateTime),
    Column("answered_by", _enum(AnsweredBy), nullable=False),
    Column("ended_at", UtcDateTime),
    Column("ring_seconds", Float),
    Column("rings", Integer),
    Column("outcome", _enum(CallOutcome), nullable=False),
    Column("within_standard", Boolean, nullable=False),
    Column("is_test_call", Boolean, nullable=False),
    Column("ivr_seconds", Float),
    Column("gap_note", String),
    Index("ix_calls_started_at", "started_at"),
    Index("ix_calls_line_started_at", "line", "started_at"),
    Index("ix_calls_department_started_at", "department", "started_at"),
)

ring_tests = Table(
    "ring_tests",
    metadata,
    Column("test_id", String, primary_key=True),
    Column("target", String, nullable=False),
    Column("account", String, nullable=False),
    Column("department", String, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("outcome", _enum(RingTestOutcome), nullable=False),
    Column("answered_by", _enum(AnsweredBy), nullable=False),
    Column("pdd_seconds", Float),
    Column("ring_seconds", Float),
    Column("tta_seconds", Float),
    Column("rings", Integer),
    Column("within_standard", Boolean, nullable=False),
    Column("sip_code", Integer),
    Column("reason", String, nullable=False),
    Column("campaign", String),
    Column("callback_requested", Boolean, nullable=False),
    Column("evidence_path", String),
    Column("ivr_keys", String),
    Column("ivr_seconds", Float),
    Column("ring_seconds_after_ivr", Float),
    Column("rings_after_ivr", Integer),
    Column("to_person_seconds", Float),
    Index("ix_ring_tests_placed_at", "placed_at"),
    Index("ix_ring_tests_department_placed_at", "department", "placed_at"),
    Index("ix_ring_tests_campaign_placed_at", "campaign", "placed_at"),
)

callback_obligations = Table(
    "callback_obligations",
    metadata,
    *_call_key(),
    Column("caller", String, nullable=False),
    *_line_and_department(),
    Column("missed_at", UtcDateTime, nullable=False),
    *_deadline(CallbackStatus),
    Column("closing_call_id", String),
    Column("connected", Boolean),
    Column("working_seconds", Float),
    Index("ix_callback_obligations_status", "status"),
    Index("ix_callback_obligations_deadline_at", "deadline_at"),
    Index("ix_callback_obligations_pbx_caller", "pbx", "caller"),
)

campaigns = Table(
    "campaigns",
    metadata,
    Column("name", String, primary_key=True),
    Column("source_path", String, nullable=False),
    Column("source_sha256", String, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("definition", Text, nullable=False),
)

campaign_runs = Table(
    "campaign_runs",
    metadata,
    Column("campaign", String, ForeignKey("campaigns.name"), nullable=False),
    Column("target", String, nullable=False),
    Column("planned_at", UtcDateTime, nullable=False),
    Column("status", _enum(RunStatus), nullable=False),
    Column("test_id", String),
    Column("reason", String, nullable=False),
    Column("callback", Boolean, nullable=False),
    Column("started_at", UtcDateTime),
    PrimaryKeyConstraint("campaign", "target", "planned_at"),
    Index("ix_campaign_runs_status_planned_at", "status", "planned_at"),
)

callback_tests = Table(
    "callback_tests",
    metadata,
    Column("test_id", String, primary_key=True),
    Column("account", String, nullable=False),
    Column("target", String, nullable=False),
    Column("department", String, nullable=False),
    Column("callback_number", String, nullable=False),
    Column("reference", String, nullable=False),
    Column("left_at", UtcDateTime, nullable=False),
    *_deadline(CallbackTestStatus),
    Column("caller", String),
    Column("matched_by", _enum(CallbackMatch)),
    Column("working_seconds", Float),
    Column("within_deadline", Boolean),
    Index("ix_callback_tests_status_left_at", "status", "left_at"),
)

coverage_gaps = Table(
    "coverage_gaps",
    metadata,
    Column("pbx", String, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("reason", _enum(GapReason), nullable=False),
    PrimaryKeyConstraint("pbx", "started_at"),
    Index("ix_coverage_gaps_ended_at", "ended_at"),
)

gap_fills = Table(
    "gap_fills",
    metadata,
    Column("pbx", String, nullable=False),
    Column("gap_started_at", UtcDateTime, nullable=False),
    Column("source", String, nullable=False),
    Column("filled_at", UtcDateTime, nullable=False),
    Column("calls_imported", Integer, nullable=False),
    Column("calls_upgraded", Integer, nullable=False),
    Column("passes_over", Boolean, nullable=False, server_default=false()),
    PrimaryKeyConstraint("pbx", "gap_started_at"),
)

listener_state = Table(
    "listener_state",
    metadata,
    Column("pbx", String, primary_key=True),
    Column("seen_until", UtcDateTime, nullable=False),
)

unmatched_inbound_calls = Table(
    "unmatched_inbound_calls",
    metadata,
    Column("pbx", String, nullable=False),
    Column("call_id", String, nullable=False),
    Column("dialled", String, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("pbx", "call_id"),
    Index("ix_unmatched_inbound_calls_started_at", "started_at"),
)
"""Calls from the public that matched no `[[lines]]` entry (`UnmatchedInboundCall`):
`ringtest lines` counts them by dialled number. No caller number is kept."""

import_watermarks = Table(
    "import_watermarks",
    metadata,
    Column("source", String, primary_key=True),
    Column("read_until", UtcDateTime, nullable=False),
    Column("imported_at", UtcDateTime, nullable=False),
)
"""Per history source (a CDR/CEL file, or a database's table, named without its password),
the instant up to which `import-cdr`/`import-cel --since last` has read it."""

greeting_audits = Table(
    "greeting_audits",
    metadata,
    Column("test_id", String, primary_key=True),
    Column("transcript", String, nullable=False),
    Column("announced_name", _enum(Heard), nullable=False),
    Column("greeted", _enum(Heard), nullable=False),
    Column("audited_at", UtcDateTime, nullable=False),
)
"""What the answerer of a ring test said (`GreetingAudit`), written after the call by the
greeting audit; one row per audited ring test, keyed by its test_id."""
