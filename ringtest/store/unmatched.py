"""Calls from the public that matched no configured line, counted by the number dialled.

The listener stores each such call (`UnmatchedInboundCall`, in
`schema.unmatched_inbound_calls`, through `Store.save_unmatched_calls`);
`ringtest lines` reads them back counted per dialled number
(`Store.unmatched_numbers`, with the query here), so a line missing from the
config is found the day it is first called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from ringtest.store import schema

_calls = schema.unmatched_inbound_calls


@dataclass(frozen=True, slots=True)
class UnmatchedNumber:
    """One dialled number (as the trunk delivered it) that matched no line.

    calls: how many calls from the public dialled it in the period.
    last_called_at: the latest of them (UTC).
    """

    dialled: str
    calls: int
    last_called_at: datetime


def unmatched_numbers_query(since: datetime, until: datetime) -> Select[Any]:
    """Per dialled number: its calls in [since, until) and the latest, most called first."""
    calls = func.count().label("calls")
    return (
        select(_calls.c.dialled, calls, func.max(_calls.c.started_at).label("last_called_at"))
        .where(_calls.c.started_at >= since, _calls.c.started_at < until)
        .group_by(_calls.c.dialled)
        .order_by(calls.desc(), _calls.c.dialled)
    )
