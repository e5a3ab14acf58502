"""Which table each record type is stored in, and the statements that move records in and out.

A record table has one column per field of its record, in field order (see
`schema`), so a record becomes a row field by field and a row becomes its record
with `Record(**row)`. What differs between the record types is data, kept in one
`RecordTable` each: the table, the order rows are read back in, the instant that
places a row in a period, and the columns a re-save must not overwrite.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from functools import cached_property
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.sql.dml import Insert

from ringtest.core.records import (
    CallbackObligation,
    CallbackTest,
    CallRecord,
    Campaign,
    RingTestResult,
    RunSlot,
)
from ringtest.store import schema
from ringtest.store.database import Backend

Record = TypeVar("Record")


@dataclass(frozen=True)
class RecordTable(Generic[Record]):
    """How one record type is stored.

    order_by: the columns rows are read back in order of, most significant first.
    period: the instant column whose value puts a row in a period [since, until);
        None when the record type is not read by period (then `query` takes no bounds).
    keep_on_conflict: columns a re-save of a stored record leaves as first saved.
    """

    table: Table
    record_class: type[Record]
    order_by: tuple[str, ...]
    period: str | None = None
    keep_on_conflict: tuple[str, ...] = ()

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
        """INSERT that replaces the stored row of the same key, but for `keep_on_conflict`."""
        insert = backend.insert(self.table)
        return insert.on_conflict_do_update(
            index_elements=list(self.table.primary_key.columns),
            set_={
                column.name: insert.excluded[column.name]
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


CALLS = RecordTable(
    schema.calls, CallRecord, order_by=("started_at", "pbx", "call_id"), period="started_at"
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
