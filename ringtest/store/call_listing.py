"""Listing stored calls: a page for people (the newest N, and how many in all), every call
for tools (`call_rows`, streamed as plain values).

`ringtest calls` shows a table of the latest calls, not a million rows. The page
is read newest first through the calls' start-time indexes (`ix_calls_started_at`,
and the line and department ones when filtered), so its cost is the page, not
the table; the total is a COUNT in the database. An export reads every call
`EXPORT_CHUNK_ROWS` at a time and makes no records (`streaming.stream_plain_rows`).
Filters are those of `Store.calls` (a period [since, until) on the start, a
line, a department) and whether the call is a ring test's (`is_test_call`:
`ringtest calls` leaves mystery calls out unless asked).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ringtest.core.records import CallRecord
from ringtest.store.record_tables import CALLS
from ringtest.store.store import Store
from ringtest.store.streaming import stream_plain_rows, stream_records

EXPORT_CHUNK_ROWS = 5000
"""Rows fetched per round trip by `call_rows`."""


def newest_calls(
    store: Store,
    limit: int,
    since: datetime | None = None,
    until: datetime | None = None,
    line: str | None = None,
    department: str | None = None,
    is_test_call: bool | None = None,
) -> list[CallRecord]:
    """The `limit` latest-started of the calls `store.calls` would return, oldest first
    (only those whose `is_test_call` is the one given, unless None)."""
    table = CALLS.table
    query = (
        CALLS.query(since, until, line=line, department=department, is_test_call=is_test_call)
        .order_by(None)
        .order_by(*(table.c[name].desc() for name in CALLS.order_by))
        .limit(limit)
    )
    with store.reading() as connection:
        newest_first = list(stream_records(connection, CALLS, query, limit))
    return newest_first[::-1]


def count_calls(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    line: str | None = None,
    department: str | None = None,
    is_test_call: bool | None = None,
) -> int:
    """How many calls `newest_calls` would choose from, counted by the database."""
    matching = CALLS.query(
        since, until, line=line, department=department, is_test_call=is_test_call
    ).order_by(None)
    with store.reading() as connection:
        return connection.execute(
            select(func.count()).select_from(matching.subquery())
        ).scalar_one()


def call_rows(
    store: Store,
    since: datetime | None = None,
    until: datetime | None = None,
    line: str | None = None,
    department: str | None = None,
    is_test_call: bool | None = None,
) -> Iterator[list[Any]]:
    """The calls `newest_calls` would choose from, all of them, as plain values in
    `CallRecord` field order (instants as ISO 8601 UTC text with a ``+00:00`` offset,
    enums as their values), read as they are consumed."""
    query = CALLS.query(since, until, line=line, department=department, is_test_call=is_test_call)
    with store.reading() as connection:
        yield from stream_plain_rows(connection, CALLS, query, EXPORT_CHUNK_ROWS)
