"""Calls, ring tests and callback obligations as uniform pandas frames for `compliance`.

Both sources become *observations* with the same columns (`OBSERVATION_COLUMNS`),
so every metric is computed once for both and shown side by side:

* live calls (source ``live``) from the AMI listener or a CDR import; our own
  ring-test calls that the listener also saw (`is_test_call`) are left out;
* ring tests (source ``ring test``) from the SIP test caller; a test that was
  never placed did not happen and is left out, the rest map to call outcomes by
  `RING_TEST_OUTCOMES`.

`stored_call_chunks` and `stored_obligations` read stored rows one by one (plain
columns, no record objects, calls in bounded chunks): the row-level path, which the
report no longer takes (the database sums rows for it, `analysis.stored`) but
which stays the reference those sums are tested against, row for row.
Instants are UTC ``datetime64[ns, UTC]`` columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Integer, String, func, select, type_coerce

from ringtest.records import (
    AnsweredBy,
    CallbackObligation,
    CallOutcome,
    CallRecord,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.store import Store, schema

LIVE = "live"
RING_TEST = "ring test"
SOURCES = (LIVE, RING_TEST)

OBSERVATION_COLUMNS = (
    "source",
    "department",
    "line",
    "started_at",
    "outcome",
    "person",
    "within",
    "rings",
    "ring_seconds",
)
OBLIGATION_COLUMNS = (
    "department",
    "line",
    "started_at",
    "deadline_at",
    "status",
    "closed_at",
    "working_seconds",
)

RING_TEST_OUTCOMES = {
    RingTestOutcome.ANSWERED: CallOutcome.ANSWERED,
    RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS: CallOutcome.ABANDONED,
    RingTestOutcome.BUSY: CallOutcome.BUSY,
    RingTestOutcome.REJECTED: CallOutcome.FAILED,
    RingTestOutcome.UNREACHABLE: CallOutcome.FAILED,
    RingTestOutcome.FAILED: CallOutcome.FAILED,
}
"""A placed ring test's outcome as a call outcome: the tester hanging up after the
most rings it waits is an abandoned call. A test answered by voicemail is `voicemail`."""

CHUNK_ROWS = 250_000
"""Stored calls read per chunk: bounds memory whatever the number of calls."""


def calls_frame(calls: Iterable[CallRecord]) -> pd.DataFrame:
    """Calls as a DataFrame with the export schema's columns (empty frame if none)."""
    rows = [asdict(call) for call in calls]
    if not rows:
        return pd.DataFrame(columns=list(CallRecord.__dataclass_fields__))
    return pd.DataFrame(rows)


def live_observations(calls: pd.DataFrame) -> pd.DataFrame:
    """A `calls_frame` as observations; calls from our own ring-test caller IDs left out."""
    live = calls[~calls["is_test_call"].astype(bool)] if len(calls) else calls
    return _observations(
        LIVE,
        department=live["department"],
        line=live["line"],
        started_at=live["started_at"],
        outcome=live["outcome"].map(str),
        person=live["answered_by"].map(str) == AnsweredBy.PERSON,
        within=live["within_standard"].astype(bool),
        rings=live["rings"],
        ring_seconds=live["ring_seconds"],
    )


def ring_test_observations(results: Iterable[RingTestResult]) -> pd.DataFrame:
    """Placed ring tests as observations (source ``ring test``)."""
    placed = [result for result in results if result.outcome in RING_TEST_OUTCOMES]
    outcomes = [
        CallOutcome.VOICEMAIL
        if result.answered_by is AnsweredBy.VOICEMAIL
        else RING_TEST_OUTCOMES[result.outcome]
        for result in placed
    ]
    return _observations(
        RING_TEST,
        department=[result.department for result in placed],
        line=[result.target for result in placed],
        started_at=[result.placed_at for result in placed],
        outcome=[outcome.value for outcome in outcomes],
        person=[result.answered_by is AnsweredBy.PERSON for result in placed],
        within=[result.within_standard for result in placed],
        rings=[result.rings for result in placed],
        ring_seconds=[result.ring_seconds for result in placed],
    )


def stored_call_chunks(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    department: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Live calls that started in [since, until) as observation chunks of `chunk_rows`."""
    calls = schema.calls
    query = select(
        calls.c.department,
        calls.c.line,
        type_coerce(calls.c.started_at, String).label("started_at"),
        type_coerce(calls.c.outcome, String).label("outcome"),
        type_coerce(calls.c.answered_by == AnsweredBy.PERSON.value, Integer).label("person"),
        type_coerce(calls.c.within_standard, Integer).label("within"),
        calls.c.rings,
        calls.c.ring_seconds,
    ).where(calls.c.is_test_call.is_(False), *_period(calls.c.started_at, since, until))
    if department is not None:
        query = query.where(calls.c.department == department)
    names = ("department", "line", "started_at", "outcome", "person", "within", "rings",
             "ring_seconds")  # fmt: skip
    with store.reading() as connection:
        result = connection.execution_options(yield_per=chunk_rows).execute(query)
        for partition in result.partitions():
            chunk = pd.DataFrame.from_records(list(map(tuple, partition)), columns=names)
            yield _observations(LIVE, **{name: chunk[name] for name in names})


def stored_obligations(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    department: str | None = None,
) -> pd.DataFrame:
    """Callback obligations of calls that started in [since, until), with their call's start.

    An obligation's `started_at` is its missed call's start (so it falls in the same
    period as the call); when that call is not stored, the time it was missed.
    """
    owed, calls = schema.callback_obligations, schema.calls
    started = func.coalesce(calls.c.started_at, owed.c.missed_at)
    query = select(
        owed.c.department,
        owed.c.line,
        type_coerce(started, String).label("started_at"),
        type_coerce(owed.c.deadline_at, String).label("deadline_at"),
        owed.c.status,
        type_coerce(owed.c.closed_at, String).label("closed_at"),
        owed.c.working_seconds,
    ).select_from(
        owed.outerjoin(calls, (calls.c.pbx == owed.c.pbx) & (calls.c.call_id == owed.c.call_id))
    )
    query = query.where(*_period(started, since, until))
    if department is not None:
        query = query.where(owed.c.department == department)
    with store.reading() as connection:
        rows = connection.execute(query).all()
    return _obligations(pd.DataFrame.from_records(rows, columns=OBLIGATION_COLUMNS))


def obligations_frame(
    obligations: Iterable[CallbackObligation], calls: Iterable[CallRecord] = ()
) -> pd.DataFrame:
    """Obligations (records) as `stored_obligations` returns them, `calls` giving their starts."""
    started = {(call.pbx, call.call_id): call.started_at for call in calls}
    rows = [
        {
            **{name: getattr(owed, name) for name in OBLIGATION_COLUMNS if name != "started_at"},
            "started_at": started.get((owed.pbx, owed.call_id), owed.missed_at),
        }
        for owed in obligations
    ]
    return _obligations(pd.DataFrame(rows, columns=OBLIGATION_COLUMNS))


def _observations(source: str, **columns: Any) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    frame.insert(0, "source", source)
    frame["started_at"] = _utc(frame["started_at"])
    frame["person"] = frame["person"].astype(bool)
    frame["within"] = frame["within"].astype(bool)
    frame["rings"] = pd.to_numeric(frame["rings"]).astype(float)
    frame["ring_seconds"] = pd.to_numeric(frame["ring_seconds"]).astype(float)
    frame["outcome"] = frame["outcome"].astype(str)
    return frame[list(OBSERVATION_COLUMNS)]


def _obligations(frame: pd.DataFrame) -> pd.DataFrame:
    for name in ("started_at", "deadline_at", "closed_at"):
        frame[name] = _utc(frame[name])
    frame["status"] = frame["status"].map(str)
    frame["working_seconds"] = pd.to_numeric(frame["working_seconds"]).astype(float)
    return frame


def _utc(values: pd.Series) -> pd.Series:
    """Aware datetimes or the store's UTC wall-clock text as ``datetime64[ns, UTC]``."""
    return pd.to_datetime(values, utc=True, format="ISO8601").astype("datetime64[ns, UTC]")


def _period(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    conditions = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions
