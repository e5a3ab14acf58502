"""Which table each record type is stored in, and the statements that move records in and out.

A record table has one column per field of its record, in field order (see
`schema`), so a record becomes a row field by field and a row becomes its record
with `Record(**row)`. What differs between the record types is data, kept in one
`RecordTable` each: the table, the order rows are read back in, the instant that
places a row in a period, the columns a re-save must not overwrite, and how a
partial record merges into what is stored (`Merge`).

Merging calls. A call the listener lost sight of is stored ``incomplete``; after
the reconnect the same call is adopted again and saved again, knowing less (its
answer and ring time came before the reconnect). `CALL_MERGE` says what such a
re-save keeps: a whole record replaces the stored row; a partial one never
replaces a whole one; between two partial records each group of `KeepKnown`
columns keeps its stored values when they say more. One SQL upsert does it, on
SQLite and PostgreSQL alike (``ON CONFLICT DO UPDATE SET col = CASE ...``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Table, and_, case, not_, or_, select
from sqlalchemy.sql.dml import Insert

from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackTest,
    CallOutcome,
    CallRecord,
    Campaign,
    CoverageGap,
    GapFill,
    GreetingAudit,
    RingTestResult,
    RunSlot,
    UnmatchedInboundCall,
)
from ringtest.store import schema
from ringtest.store.database import Backend

Record = TypeVar("Record")

Columns = Any
"""A row's columns by name: the stored row (`Table.c`) or the incoming one (``excluded``)."""


@dataclass(frozen=True)
class KeepKnown:
    """Columns that a partial re-save leaves as stored when `stored_says_more(stored, incoming)`."""

    columns: tuple[str, ...]
    stored_says_more: Callable[[Columns, Columns], ColumnElement[bool]]


@dataclass(frozen=True)
class Merge:
    """How a re-saved record merges into its stored row instead of replacing it.

    is_partial: whether a row is partial (the source did not see all of it).
    keep_known: the column groups two partial rows merge, group by group.
    """

    is_partial: Callable[[Columns], ColumnElement[bool]]
    keep_known: tuple[KeepKnown, ...]

    def value(self, name: str, stored: Columns, incoming: Columns) -> ColumnElement[Any]:
        """The SQL value of column `name` after merging `incoming` into `stored`."""
        stored_says_more = [not_(self.is_partial(stored))] + [
            group.stored_says_more(stored, incoming)
            for group in self.keep_known
            if name in group.columns
        ]
        keep_stored = and_(self.is_partial(incoming), or_(*stored_says_more))
        return case((keep_stored, stored[name]), else_=incoming[name])


@dataclass(frozen=True)
class RecordTable(Generic[Record]):
    """How one record type is stored.

    order_by: the columns rows are read back in order of, most significant first.
    period: the instant column whose value puts a row in a period [since, until);
        None when the record type is not read by period (then `query` takes no bounds).
    keep_on_conflict: columns a re-save of a stored record leaves as first saved.
    merge: how a partial re-save merges into the stored row; None: it replaces it.
    """

    table: Table
    record_class: type[Record]
    order_by: tuple[str, ...]
    period: str | None = None
    keep_on_conflict: tuple[str, ...] = ()
    merge: Merge | None = None

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        """The record's fields, which are the table's columns, in order."""
        return tuple(field.name for field in fields(self.record_class))

    def row(self, record: Record) -> dict[str, Any]:
        """The row of `record`: column name to field value."""
        return {name: getattr(record, name) for name in self.field_names}

    def record(self, row: Mapping[str, Any]) -> Record:
        """The record a row of this table holds."""
        return self.record_class(**row)

    def upsert(self, backend: Backend) -> Insert:
        """INSERT that replaces the stored row of the same key, but for `keep_on_conflict`,
        or merges into it by `merge`."""
        return self.on_conflict(backend.insert(self.table))

    def on_conflict(self, insert: Insert) -> Insert:
        """`insert` (of this table, by rows or from a SELECT) made an upsert: a row whose key
        is stored replaces it, but for `keep_on_conflict`, or merges into it by `merge`."""
        stored, incoming = self.table.c, insert.excluded
        return insert.on_conflict_do_update(
            index_elements=list(self.table.primary_key.columns),
            set_={
                column.name: (
                    incoming[column.name]
                    if self.merge is None
                    else self.merge.value(column.name, stored, incoming)
                )
                for column in self.table.columns
                if not column.primary_key and column.name not in self.keep_on_conflict
            },
        )

    def insert_new(self, backend: Backend) -> Insert:
        """INSERT that skips rows whose key is already stored; its rowcount is the rows added."""
        return (
            backend.insert(self.table)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)
        )

    def query(
        self, since: datetime | None = None, until: datetime | None = None, **equal_to: object
    ) -> Select[Any]:
        """Rows whose `period` instant is in [since, until) and whose columns equal `equal_to`
        (None: no filter on that bound or column), in `order_by` order."""
        conditions = equal(self.table, **equal_to)
        if since is not None:
            conditions.append(self.table.c[self.period] >= since)
        if until is not None:
            conditions.append(self.table.c[self.period] < until)
        return (
            select(self.table)
            .where(*conditions)
            .order_by(*(self.table.c[name] for name in self.order_by))
        )


def equal(table: Table, **equal_to: object) -> list[ColumnElement[bool]]:
    """Conditions that each named column of `table` equals its value (None: no condition)."""
    return [table.c[name] == value for name, value in equal_to.items() if value is not None]


ANSWER_RANK = {
    AnsweredBy.PERSON: 3,
    AnsweredBy.VOICEMAIL: 2,
    AnsweredBy.IVR: 1,
    AnsweredBy.UNSURE: 1,
    AnsweredBy.NONE: 0,
}
"""How much an answer says: a person answering says most, nobody answering least."""


def _answer_rank(row: Columns) -> ColumnElement[int]:
    return case({by.value: rank for by, rank in ANSWER_RANK.items()}, value=row.answered_by)


CALL_MERGE = Merge(
    is_partial=lambda row: row.outcome == CallOutcome.INCOMPLETE.value,
    keep_known=(
        # the earlier start was seen nearer the call's beginning, and so was its line
        KeepKnown(
            ("started_at", "line", "department", "dialled"),
            lambda stored, incoming: stored.started_at < incoming.started_at,
        ),
        KeepKnown(
            ("caller", "is_test_call"),
            lambda stored, incoming: and_(incoming.caller == "", stored.caller != ""),
        ),
        KeepKnown(
            ("answered_at", "answered_by", "within_standard"),
            lambda stored, incoming: _answer_rank(stored) > _answer_rank(incoming),
        ),
        KeepKnown(
            ("ring_started_at", "ring_seconds", "rings"),
            lambda stored, incoming: and_(
                incoming.ring_seconds.is_(None), stored.ring_seconds.is_not(None)
            ),
        ),
        KeepKnown(("ended_at",), lambda stored, incoming: incoming.ended_at.is_(None)),
        KeepKnown(("ivr_seconds",), lambda stored, incoming: incoming.ivr_seconds.is_(None)),
        # the first reason the call became incomplete: when the listener lost sight of it
        KeepKnown(("gap_note",), lambda stored, incoming: stored.gap_note.is_not(None)),
    ),
)
"""A re-saved incomplete call never loses an answer, a ring time or a start already stored."""

CALLS = RecordTable(
    schema.calls,
    CallRecord,
    order_by=("started_at", "pbx", "call_id"),
    period="started_at",
    merge=CALL_MERGE,
)
RING_TESTS = RecordTable(
    schema.ring_tests, RingTestResult, order_by=("placed_at", "test_id"), period="placed_at"
)
OBLIGATIONS = RecordTable(
    schema.callback_obligations, CallbackObligation, order_by=("deadline_at", "pbx", "call_id")
)
CALLBACK_TESTS = RecordTable(schema.callback_tests, CallbackTest, order_by=("left_at", "test_id"))
CAMPAIGNS = RecordTable(
    schema.campaigns, Campaign, order_by=("name",), keep_on_conflict=("created_at",)
)
CAMPAIGN_RUNS = RecordTable(
    schema.campaign_runs,
    RunSlot,
    order_by=("planned_at", "campaign", "target"),
    period="planned_at",
)
GAPS = RecordTable(
    schema.coverage_gaps, CoverageGap, order_by=("started_at", "pbx"), period="started_at"
)
GAP_FILLS = RecordTable(schema.gap_fills, GapFill, order_by=("gap_started_at", "pbx"))
GREETING_AUDITS = RecordTable(schema.greeting_audits, GreetingAudit, order_by=("test_id",))
UNMATCHED_CALLS = RecordTable(
    schema.unmatched_inbound_calls,
    UnmatchedInboundCall,
    order_by=("started_at", "pbx", "call_id"),
    period="started_at",
)
