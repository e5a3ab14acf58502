"""Coverage: how much of a period the listener saw its PBX, and where its next gap begins.

A `CoverageGap` is an interval in which the listener did not see its PBX (it
was stopped or crashed, its link was lost, or the PBX restarted). The store
keeps the gaps (`Store.save_gaps`, `Store.gaps`) and, per PBX, the latest
instant a listener is known to have seen it (`listener_state`, through
`Store.save_listener_seen` with the statements here): a listener that starts
again reads it (`Store.listener_seen_until`) to know where the gap of its
downtime began.

`coverage_share` is the figure reports show: the share of [since, until) not
inside any gap. It is pure: it takes the gaps, not the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, select
from sqlalchemy.sql.dml import Insert

from ringtest.core.records import CoverageGap
from ringtest.store import database, schema

_state = schema.listener_state


def seen_until_upsert(backend: database.Backend) -> Insert:
    """The statement that records (`pbx`, `seen_until`) in `listener_state`: the instant
    never moves back, so a late write of an older one changes nothing."""
    insert = backend.insert(_state)
    later = case(
        (insert.excluded.seen_until > _state.c.seen_until, insert.excluded.seen_until),
        else_=_state.c.seen_until,
    )
    return insert.on_conflict_do_update(index_elements=[_state.c.pbx], set_={"seen_until": later})


def seen_until_query(pbx: str) -> Select[Any]:
    """The query for the latest instant a listener on `pbx` is known to have seen it."""
    return select(_state.c.seen_until).where(_state.c.pbx == pbx)


def coverage_share(gaps: Iterable[CoverageGap], since: datetime, until: datetime) -> float:
    """The share (0.0 to 1.0) of [since, until) that lies inside none of `gaps` (the gaps
    of one PBX: another PBX's gap does not blind this one).

    Gaps may overlap each other and the period's ends; each instant counts once.
    An empty period (until <= since) is fully covered: 1.0.
    """
    period_seconds = (until - since).total_seconds()
    if period_seconds <= 0:
        return 1.0
    clipped = sorted(
        (max(gap.started_at, since), min(gap.ended_at, until))
        for gap in gaps
        if gap.started_at < until and gap.ended_at > since
    )
    blind_seconds = 0.0
    reached = since
    for started_at, ended_at in clipped:
        started_at = max(started_at, reached)
        if ended_at > started_at:
            blind_seconds += (ended_at - started_at).total_seconds()
            reached = ended_at
    return 1.0 - blind_seconds / period_seconds
