"""Callback obligations still owed, counted per PBX, department and line as of an instant.

What a Prometheus scrape reads (`ringtest.web.metrics_gauges`): how many missed
callers are still waiting for a call back, and how many of them are past their
deadline. Owed means stored as ``open`` or ``overdue``. Overdue is judged by
the deadline as of `now` (``deadline_at <= now``, as
`ami_listener.obligations` and `ringtest.store.aggregates.CallbackState` judge
it), so an obligation the listener has not yet marked overdue (it marks them
every few seconds) already counts. The database counts over the status index:
a scrape reads one row per PBX, department and line, never one per obligation
(10,000 obligations read as records cost about 90 ms; counted, a few).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, case, func, select

from ringtest.core.records import CallbackStatus
from ringtest.store import schema
from ringtest.store.store import Store

OWED_STATUSES = (CallbackStatus.OPEN, CallbackStatus.OVERDUE)
"""The stored statuses of an obligation whose caller is still owed a call back."""


@dataclass(frozen=True, slots=True)
class OwedCallbacks:
    """The obligations of one PBX's department and line still owed, and how many are overdue."""

    pbx: str
    department: str
    line: str
    owed: int
    overdue: int


def owed_callbacks(store: Store, now: datetime) -> list[OwedCallbacks]:
    """Per PBX, department and line (sorted), the obligations still owed and those of them
    whose deadline is at or before `now` (aware UTC)."""
    owed = schema.callback_obligations
    past_deadline = case((owed.c.deadline_at <= now, 1), else_=0).cast(Integer)
    keys = (owed.c.pbx, owed.c.department, owed.c.line)
    query = (
        select(*keys, func.count(), func.sum(past_deadline))
        .where(owed.c.status.in_([status.value for status in OWED_STATUSES]))
        .group_by(*keys)
        .order_by(*keys)
    )
    with store.reading() as connection:
        return [
            OwedCallbacks(pbx, department, line, int(count), int(overdue))
            for pbx, department, line, count, overdue in connection.execute(query)
        ]
