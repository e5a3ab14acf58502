"""Sums of stored observations and callback obligations per time bucket, computed by the database.

This is where every counted metric is defined: `call_sums` counts the
observations that `ringtest.store.observations` selects (live calls or ring
tests, the same rules for both), `greeting_sums` the greeting audits of the ring
tests a person answered, `obligation_sums` the callback obligations,
each in one `CallbackState` as of the report's `now`.
The weekly report over millions of calls needs only counts, so these queries
group in SQL and hand back aggregates: a few rows per bucket instead of one
row per call (reading a row through the driver costs microseconds; grouping
10M calls in the database costs a fraction of that).

A *bucket* is ``(epoch_seconds(instant) - origin) // width``, integer seconds
since the Unix epoch, `origin` and `width` chosen by the caller (in
`analysis.stored` so that a bucket never straddles a local midnight). The epoch
is the one dialect switch: SQLite keeps instants as UTC text
``YYYY-MM-DD HH:MM:SS.ffffff`` (`strftime('%s')` of its first 19 characters),
PostgreSQL as `timestamptz` (`floor(extract(epoch))`); both floor to whole
seconds, which is exact for whole-second bucket edges.

Every function yields lists of plain tuples (one list per `chunk_rows` rows),
in the column order of its `*_COLUMNS`, so callers stream them into arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.sql.elements import ColumnElement

from ringtest.core.observations import Source
from ringtest.core.records import CallbackStatus, CallOutcome
from ringtest.store import schema
from ringtest.store.observations import observations
from ringtest.store.store import Store

CHUNK_ROWS = 100_000
"""Aggregate rows handed back per chunk."""

CALL_OUTCOMES = ("abandoned", "voicemail", "busy", "failed", "incomplete")
CALL_SUM_COLUMNS = (
    "bucket",
    "department",
    "line",
    "person_rings",
    "offered",
    "answered_by_person",
    "within_standard",
    *CALL_OUTCOMES,
    "abandoned_within_standard",
    "short_abandons",
    "answered_by_ivr",
    "ring_time_unknown",
    "within_standard_uncertain",
)
"""`call_sums` columns. person_rings: rings heard when a person answered and the
rings are known, else None; the rest are counts of calls. offered: calls seen whole,
every outcome but incomplete (a call the listener did not see whole is counted in
`incomplete` only, never as offered-and-failed, nor as answered). answered_by_ivr:
the call was answered, but not by a person (the PBX itself: an IVR or an announcement).
ring_time_unknown: calls seen whole whose history has no ring time (never within the
standard, never an abandon within it or a short one). within_standard_uncertain: calls a
person answered whose whole-second ring time lies where its error could turn the verdict
(`RingRule.uncertain_between`)."""

NO_JIT = "SET LOCAL jit = off"
"""What a PostgreSQL aggregate runs first: compiling its dozen CASE expressions took
2.7 s of 3.7 s over 2 million calls and gave nothing back at 10 million (EXPLAIN
ANALYZE, `bench.pg_scale`'s store); LOCAL, so only this transaction's."""

NO_UNCERTAINTY = (0.0, 0.0)
"""An empty interval of uncertain ring seconds: every verdict is certain."""

GREETING_SUM_COLUMNS = ("bucket", "department", "line", "announced_name", "tests")
"""`greeting_sums` columns. announced_name: the audit's verdict (a `Heard` value);
tests: how many audited ring tests share these values."""

OBLIGATION_SUM_COLUMNS = (
    "bucket",
    "department",
    "line",
    "status",
    "callback_state",
    "working_seconds",
    "obligations",
)
"""`obligation_sums` columns. callback_state: a `CallbackState` value; working_seconds:
the latency of a called-back obligation to the nearest `LATENCY_STEP_SECONDS` (None for
the other statuses and when unknown); obligations: how many share these values."""

LATENCY_STEP_SECONDS = 60.0
"""float seconds: callback latencies are summed to the nearest minute of working time.
The median and 90th percentile the report shows (in hours, to a tenth) move by at most
half a step, no verdict depends on them (returned in time is judged by the deadline),
and the sums stay small: exact latencies, each its own group, brought 20 million rows
back from 100 million calls (`bench.pg_scale`)."""


class CallbackState(StrEnum):
    """Where a callback obligation stands against its deadline, as of a given `now`.

    Only an obligation whose deadline has passed is judged: it was called back by
    the deadline, or it was not (called back late, the caller got through first, or
    still owed). One whose deadline is still ahead is not yet due, even if it was
    already returned: counting only the early returns would flatter the figure.
    """

    RETURNED_IN_TIME = "returned_in_time"
    LATE_OR_NEVER = "late_or_never"
    NOT_YET_DUE = "not_yet_due"


@dataclass(frozen=True)
class Buckets:
    """How instants are bucketed: bucket = (epoch seconds + offset - origin) // width.

    origin: int, seconds of the first bucket's start (offset added); no instant read
        lies before it.
    width: int, seconds per bucket (> 0).
    offset_seconds: int, added to each instant before the first of `offset_changes`
        (a zone's UTC offset: buckets of 86,400 s are then its local days).
    offset_changes: ((unix_seconds, offset_seconds), ...) ascending: from that instant
        on, that offset is added instead.
    """

    origin: int
    width: int
    offset_seconds: int = 0
    offset_changes: tuple[tuple[int, int], ...] = ()


def call_sums(
    store: Store,
    since: datetime,
    until: datetime,
    buckets: Buckets,
    answer_within_rings: int,
    short_abandon_seconds: float,
    department: str | None = None,
    source: Source = Source.LIVE,
    chunk_rows: int = CHUNK_ROWS,
    uncertain_ring_seconds: tuple[float, float] = NO_UNCERTAINTY,
    pbx: str | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """Observations of `source` (live calls by default) that started in [since, until),
    summed per bucket, department, line and person_rings (`CALL_SUM_COLUMNS`): the one
    definition of every counted metric.

    answer_within_rings: the rings standard T (an abandon within T rings counts for SL2;
    rings of a call that never rang count as 0). short_abandon_seconds: an abandon with
    less ringing than this (none counts as 0 s) is a short abandon. A ring time the
    history does not have (`ring_time_unknown`) is neither. uncertain_ring_seconds: the
    open interval (float seconds) of whole-second ring times whose verdict is uncertain.
    pbx: only the calls on this PBX (ring tests are on none).
    """
    observed = observations(source, since, until, department, pbx).subquery()
    seen_whole = observed.c.outcome != CallOutcome.INCOMPLETE.value
    person = observed.c.answered_by_person & seen_whole
    unknown = observed.c.ring_time_unknown
    abandon_judged = (observed.c.outcome == CallOutcome.ABANDONED.value) & ~unknown
    low, high = uncertain_ring_seconds
    uncertain = (
        person
        & observed.c.whole_seconds
        & (observed.c.ring_seconds > float(low))
        & (observed.c.ring_seconds < float(high))
    )
    answered = observed.c.outcome == CallOutcome.ANSWERED.value
    rings_heard = func.coalesce(observed.c.rings, 0)
    ring_seconds_heard = func.coalesce(observed.c.ring_seconds, 0.0)
    inner = select(
        _bucket(store, observed.c.started_at, buckets).label("bucket"),
        observed.c.department,
        observed.c.line,
        case((person & observed.c.rings.is_not(None), observed.c.rings)).label("person_rings"),
        _flag(seen_whole).label("offered"),
        _flag(person).label("person"),
        _flag(observed.c.within_standard & seen_whole).label("within"),
        *(_flag(observed.c.outcome == outcome).label(outcome) for outcome in CALL_OUTCOMES),
        _flag(abandon_judged & (rings_heard <= answer_within_rings)).label("abandoned_within"),
        _flag(abandon_judged & (ring_seconds_heard < float(short_abandon_seconds))).label("short"),
        _flag(answered & ~person).label("ivr"),
        _flag(unknown & seen_whole).label("unknown"),
        _flag(uncertain).label("uncertain"),
    )
    rows = inner.subquery()
    keys = (rows.c.bucket, rows.c.department, rows.c.line, rows.c.person_rings)
    sums = (
        "offered",
        "person",
        "within",
        *CALL_OUTCOMES,
        "abandoned_within",
        "short",
        "ivr",
        "unknown",
        "uncertain",
    )
    query = select(*keys, *(func.sum(rows.c[name]) for name in sums)).group_by(*keys)
    yield from _chunks(store, query, chunk_rows)


def greeting_sums(
    store: Store,
    since: datetime,
    until: datetime,
    buckets: Buckets,
    department: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[list[tuple[Any, ...]]]:
    """Ring tests that started in [since, until), that a person answered and whose greeting
    was audited, counted per bucket, department, line and the audit's `announced_name`
    verdict (`GREETING_SUM_COLUMNS`) in one grouped query: the one definition of the
    "announced our name" counts. A test is observed by the same rules as in `call_sums`;
    a test without an audit row is not counted."""
    tests = observations(Source.RING_TEST, since, until, department)
    observed = tests.add_columns(schema.ring_tests.c.test_id).subquery()
    audits = schema.greeting_audits
    person = observed.c.answered_by_person & (observed.c.outcome != CallOutcome.INCOMPLETE.value)
    inner = (
        select(
            _bucket(store, observed.c.started_at, buckets).label("bucket"),
            observed.c.department,
            observed.c.line,
            audits.c.announced_name,
        )
        .select_from(observed.join(audits, audits.c.test_id == observed.c.test_id))
        .where(person)
    )
    rows = inner.subquery()
    keys = [rows.c[name] for name in GREETING_SUM_COLUMNS[:-1]]
    yield from _chunks(store, select(*keys, func.count()).group_by(*keys), chunk_rows)


def obligation_sums(
    store: Store,
    since: datetime,
    until: datetime,
    buckets: Buckets,
    now: datetime,
    department: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
    pbx: str | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """Callback obligations of calls that started in [since, until) (only PBX `pbx`'s
    when given), counted per bucket, department, line, status, `CallbackState` as of
    `now` (aware UTC) and called-back working_seconds (`OBLIGATION_SUM_COLUMNS`): the
    counts by status and by state and the histogram of callback latencies (to the
    minute) in one pass; the one definition of every callback metric.

    An obligation is bucketed by its missed call's start, or when that call is not
    stored, by the time it was missed.
    """
    owed, calls = schema.callback_obligations, schema.calls
    started = func.coalesce(calls.c.started_at, owed.c.missed_at)
    called_back = owed.c.status == CallbackStatus.CALLED_BACK.value
    state = case(
        (owed.c.deadline_at > now, CallbackState.NOT_YET_DUE.value),
        (
            called_back & (owed.c.closed_at <= owed.c.deadline_at),
            CallbackState.RETURNED_IN_TIME.value,
        ),
        else_=CallbackState.LATE_OR_NEVER.value,
    )
    inner = select(
        _bucket(store, started, buckets).label("bucket"),
        owed.c.department,
        owed.c.line,
        owed.c.status,
        state.label("callback_state"),
        case((called_back, _to_step(owed.c.working_seconds, LATENCY_STEP_SECONDS))).label(
            "working_seconds"
        ),
    ).select_from(
        owed.outerjoin(calls, (calls.c.pbx == owed.c.pbx) & (calls.c.call_id == owed.c.call_id))
    )
    inner = inner.where(started >= since, started < until)
    if department is not None:
        inner = inner.where(owed.c.department == department)
    if pbx is not None:
        inner = inner.where(owed.c.pbx == pbx)
    rows = inner.subquery()
    keys = [rows.c[name] for name in OBLIGATION_SUM_COLUMNS[:-1]]
    yield from _chunks(store, select(*keys, func.count()).group_by(*keys), chunk_rows)


def _bucket(store: Store, instant: ColumnElement[Any], buckets: Buckets) -> ColumnElement[Any]:
    """The bucket of `instant`, from its whole Unix seconds (the one dialect switch) and
    the offset in force then."""
    if store.engine.dialect.name == "sqlite":
        # whole seconds of the stored text: SQLite's own parse would round .9995 s up
        seconds = cast(func.strftime("%s", func.substr(instant, 1, 19)), BigInteger)
    else:
        seconds = cast(func.floor(extract("epoch", instant)), BigInteger)
    offset: ColumnElement[Any] = literal(buckets.offset_seconds)
    if buckets.offset_changes:
        latest_first = reversed(buckets.offset_changes)
        offset = case(
            *((seconds >= at, literal(later)) for at, later in latest_first),
            else_=literal(buckets.offset_seconds),
        )
    return (seconds + offset - buckets.origin) // buckets.width


def _to_step(seconds: ColumnElement[Any], step_seconds: float) -> ColumnElement[Any]:
    """`seconds` rounded to the nearest multiple of `step_seconds` (NULL stays NULL)."""
    return func.round(seconds / step_seconds) * step_seconds


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 where `condition` holds, else 0 (NULL counts as not holding)."""
    return case((condition, 1), else_=0).cast(Integer)


def _chunks(store: Store, query: Select[Any], chunk_rows: int) -> Iterator[list[tuple[Any, ...]]]:
    """`query`'s rows in lists of `chunk_rows`, straight from the driver's cursor: every
    column is a plain number or string, so no SQLAlchemy result processing is needed
    (a third of the time on 1M calls). The default, unbuffered result leaves every row
    on the cursor (yield_per and stream_results would buffer some ahead)."""
    with store.reading() as connection:
        if store.engine.dialect.name == "postgresql":
            connection.execute(text(NO_JIT))
        result = connection.execute(query)
        while rows := result.cursor.fetchmany(chunk_rows):
            yield rows
        result.close()
