"""Stored calls and ring tests as observations: `ringtest.core.observations`' rules in SQL.

`observations` is the SQL form of `observe_call` and `observe_ring_test`: a
SELECT whose rows have the fields of `Observation` (a column per field, same
names), read from the calls or the ring tests table. The aggregate queries
(`ringtest.store.aggregates`) sum these rows, so the database applies the same
selection and the same outcome mapping (`RING_TEST_OUTCOMES`) as a record
observed in Python. What differs between the two sources is data, one
`ObservedTable` each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Table, case, false, literal, select
from sqlalchemy.sql.elements import ColumnElement

from ringtest.core.observations import (
    RING_TEST_OUTCOMES,
    RING_TEST_OUTCOMES_BY_ANSWERER,
    RING_TEST_PBX,
    RING_TIME_NOT_IN_CDR,
    WHOLE_SECONDS,
    Source,
)
from ringtest.core.records import AnsweredBy
from ringtest.store import schema


@dataclass(frozen=True)
class ObservedTable:
    """How one source's table is observed.

    fields: the column expression of each `Observation` field but `source`.
    observed: the condition that a row is an observation at all.
    """

    table: Table
    fields: Mapping[str, ColumnElement[Any]]
    observed: ColumnElement[bool]


def observations(
    source: Source,
    since: datetime,
    until: datetime,
    department: str | None = None,
    pbx: str | None = None,
) -> Select[Any]:
    """Observations of `source` that started in [since, until), optionally of one
    department and of one PBX (a ring test's PBX is `RING_TEST_PBX`, so none is of a
    named one): one row per observation, its columns named as `Observation`'s fields."""
    observed = OBSERVED_TABLES[source]
    started_at = observed.fields["started_at"]
    query = select(
        literal(source.value).label("source"),
        *(column.label(name) for name, column in observed.fields.items()),
    ).where(observed.observed, started_at >= since, started_at < until)
    if department is not None:
        query = query.where(observed.table.c.department == department)
    if pbx is not None:
        query = query.where(observed.fields["pbx"] == pbx)
    return query


def _observed_calls() -> ObservedTable:
    """Live calls, but those from our own ring-test caller IDs."""
    calls = schema.calls
    person = calls.c.answered_by == AnsweredBy.PERSON.value
    fields = {
        "pbx": calls.c.pbx,
        "department": calls.c.department,
        "line": calls.c.line,
        "started_at": calls.c.started_at,
        "outcome": calls.c.outcome,
        "answered_by_person": person,
        "within_standard": person & calls.c.within_standard,
        "rings": calls.c.rings,
        "ring_seconds": calls.c.ring_seconds,
        "ring_time_unknown": _marked(calls.c.gap_note, RING_TIME_NOT_IN_CDR),
        "whole_seconds": _marked(calls.c.gap_note, WHOLE_SECONDS),
    }
    return ObservedTable(calls, fields, calls.c.is_test_call.is_(False))


def _marked(gap_note: ColumnElement[Any], mark: str) -> ColumnElement[bool]:
    """`has_mark` in SQL: the note holds `mark` (a NULL note holds nothing)."""
    return case((gap_note.contains(mark, autoescape=True), True), else_=False)


def _observed_ring_tests() -> ObservedTable:
    """Placed ring tests, their outcome as a call outcome."""
    tests = schema.ring_tests
    person = tests.c.answered_by == AnsweredBy.PERSON.value
    by_outcome = {tested.value: outcome.value for tested, outcome in RING_TEST_OUTCOMES.items()}
    by_answerer = [
        (tests.c.answered_by == answerer.value, outcome.value)
        for answerer, outcome in RING_TEST_OUTCOMES_BY_ANSWERER.items()
    ]
    fields = {
        "pbx": literal(RING_TEST_PBX),
        "department": tests.c.department,
        "line": tests.c.target,
        "started_at": tests.c.placed_at,
        "outcome": case(*by_answerer, else_=case(by_outcome, value=tests.c.outcome)),
        "answered_by_person": person,
        "within_standard": person & tests.c.within_standard,
        "rings": tests.c.rings,
        "ring_seconds": tests.c.ring_seconds,
        "ring_time_unknown": false(),
        "whole_seconds": false(),
    }
    return ObservedTable(tests, fields, tests.c.outcome.in_(list(by_outcome)))


OBSERVED_TABLES = {Source.LIVE: _observed_calls(), Source.RING_TEST: _observed_ring_tests()}
