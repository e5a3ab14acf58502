"""Day-level tallies of stored observations and obligations, summed by the database.

`stored_tally` and `stored_callbacks` turn the store's sums per time bucket
(`ringtest.store.aggregates`, where each counted metric is defined) into the
day-level `Tally` and `CallbackTally` that `compliance_rows` reads: only those
sums cross into Python. The tests hold them to a row-by-row count of the same
records (`tests/analysis/oracle.py`), figure for figure.

Buckets and local days. A call belongs to the local day it started in. The
database knows UTC, not the calendar's zone, so `day_buckets` gives it the zone's
UTC offsets over the range, piecewise: the offset in force before the range and
each instant it changes (to the second, `_offset_changes`). The database adds to
each instant the offset in force then and groups by whole days of that local time
(`ringtest.store.aggregates.Buckets`): a bucket is exactly one local day, whatever
the zone's offsets (whole hours, +05:45, historical local mean times) and
wherever its changes fall (a midnight that happens twice belongs to one day). A
12-week report has 84 buckets per department and line, not 2,016 hourly ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.compliance import ANNOUNCED_NAME_COUNTS, COUNTED, TALLY_KEYS, Tally
from analysis.obligations import (
    CALLBACK_COUNTS,
    CALLBACK_STATE_COUNTS,
    SECONDS_PER_HOUR,
    CallbackTally,
)
from ringtest.core.observations import WHOLE_SECONDS_ERROR_SECONDS, Source
from ringtest.core.records import CallbackStatus
from ringtest.core.standards import MetricRules
from ringtest.store import Store, aggregates
from ringtest.store.aggregates import Buckets

SECONDS_PER_DAY = 86_400
OFFSET_PROBE = timedelta(hours=1)
"""How often the zone's UTC offset is probed for changes (then found to the second);
no zone changes its offset twice within an hour."""


@dataclass(frozen=True)
class DayBuckets:
    """Buckets that are each one local day (of the zone whose offsets they carry)."""

    buckets: Buckets

    def days(self, bucket: pd.Series) -> pd.Series:
        """The local day (naive midnight, datetime64[ns]) of each bucket number."""
        local_seconds = self.buckets.origin + bucket.astype("int64") * self.buckets.width
        return pd.to_datetime(local_seconds, unit="s").astype("datetime64[ns]")


def day_buckets(since: datetime, until: datetime, zone: ZoneInfo) -> DayBuckets:
    """Buckets of the local days of `zone` from the one before `since` to `until`."""
    start = since - timedelta(seconds=SECONDS_PER_DAY)
    first_offset = _offset(start, zone)
    changes = tuple(
        (at, _offset(datetime.fromtimestamp(at, UTC), zone))
        for at in _offset_changes(since, until, zone)
    )
    origin = (math.floor(start.timestamp()) + first_offset) // SECONDS_PER_DAY * SECONDS_PER_DAY
    return DayBuckets(Buckets(origin, SECONDS_PER_DAY, first_offset, changes))


def stored_tally(
    store: Store,
    rules: MetricRules,
    since: datetime,
    until: datetime,
    department: str | None = None,
    source: Source = Source.LIVE,
    pbx: str | None = None,
) -> Tally:
    """Observations of `source` (live calls by default: test calls left out) that started
    in [since, until), only those on PBX `pbx` when given (ring tests are on none), as a
    day-level `Tally`; ring tests with their greeting audits' counts (`stored_greetings`),
    live calls with none."""
    grid = day_buckets(since, until, rules.zone)
    counts, rings = [], []
    chunks = aggregates.call_sums(
        store,
        since,
        until,
        grid.buckets,
        rules.answer_within_rings,
        rules.short_abandon_seconds,
        department,
        source,
        uncertain_ring_seconds=rules.ring_rule.uncertain_between(WHOLE_SECONDS_ERROR_SECONDS),
        pbx=pbx,
    )
    for chunk in chunks:
        frame = pd.DataFrame.from_records(chunk, columns=aggregates.CALL_SUM_COLUMNS)
        frame.insert(0, "source", source.value)
        frame.insert(1, "day", grid.days(frame.pop("bucket")))
        frame = frame.reindex(
            columns=[*frame.columns, *ANNOUNCED_NAME_COUNTS.values()], fill_value=0
        )
        frame[list(COUNTED)] = frame[list(COUNTED)].astype("int64")
        counts.append(frame[[*TALLY_KEYS, *COUNTED]])
        answered = frame[frame["person_rings"].notna()]
        rings.append(
            answered[list(TALLY_KEYS)].assign(
                rings=answered["person_rings"].astype(float), calls=answered["offered"]
            )
        )
    if source is Source.RING_TEST and pbx is None:
        counts.append(stored_greetings(store, grid, since, until, department))
    return Tally.of(counts, rings)


def stored_greetings(
    store: Store, grid: DayBuckets, since: datetime, until: datetime, department: str | None
) -> pd.DataFrame:
    """The greeting audits of ring tests a person answered in [since, until) as ring-test
    `Tally` counts: one row per local day, department and line with the
    `ANNOUNCED_NAME_COUNTS` (every other count 0)."""
    chunks = aggregates.greeting_sums(store, since, until, grid.buckets, department)
    summed = [
        pd.DataFrame.from_records(chunk, columns=aggregates.GREETING_SUM_COLUMNS)
        for chunk in chunks
    ]
    if not summed:
        return pd.DataFrame(columns=[*TALLY_KEYS, *COUNTED])
    frame = pd.concat(summed, ignore_index=True)
    tests = frame["tests"].astype("int64")
    verdict = frame["announced_name"]
    counts = pd.DataFrame(
        {
            "source": Source.RING_TEST.value,
            "day": grid.days(frame["bucket"]),
            "department": frame["department"],
            "line": frame["line"],
            **{
                name: tests.where(verdict == heard, 0)
                for heard, name in ANNOUNCED_NAME_COUNTS.items()
            },
        }
    )
    return counts.reindex(columns=[*TALLY_KEYS, *COUNTED], fill_value=0)


def stored_callbacks(
    store: Store,
    rules: MetricRules,
    since: datetime,
    until: datetime,
    department: str | None = None,
    *,
    now: datetime,
    pbx: str | None = None,
) -> CallbackTally:
    """Callback obligations of calls that started in [since, until) (on PBX `pbx` when
    given) as a `CallbackTally`, each obligation's `CallbackState` as of `now` (aware UTC)."""
    grid = day_buckets(since, until, rules.zone)
    counts, hours = [], []
    sums = aggregates.obligation_sums(store, since, until, grid.buckets, now, department, pbx=pbx)
    for chunk in sums:
        frame = pd.DataFrame.from_records(chunk, columns=aggregates.OBLIGATION_SUM_COLUMNS)
        keys = {
            "day": grid.days(frame["bucket"]),
            "department": frame["department"],
            "line": frame["line"],
        }
        status, owed = frame["status"], frame["obligations"].astype("int64")
        state = frame["callback_state"]
        counts.append(
            pd.DataFrame(
                {
                    **keys,
                    "callbacks_owed": owed,
                    **{
                        name: owed.where(state == value, 0)
                        for name, value in CALLBACK_STATE_COUNTS.items()
                    },
                    "caller_got_through": owed.where(
                        status == CallbackStatus.CALLER_GOT_THROUGH, 0
                    ),
                    "callbacks_open": owed.where(status == CallbackStatus.OPEN, 0),
                    "callbacks_overdue": owed.where(status == CallbackStatus.OVERDUE, 0),
                }
            )
        )
        seconds = pd.to_numeric(frame["working_seconds"]).astype(float)
        timed = seconds.notna()
        hours.append(
            pd.DataFrame({**keys, "hours": seconds / SECONDS_PER_HOUR, "obligations": owed})[timed]
        )
    if not counts:
        return CallbackTally(
            pd.DataFrame(columns=["day", "department", "line", *CALLBACK_COUNTS]),
            pd.DataFrame(columns=["day", "department", "line", "hours", "obligations"]),
        )
    return CallbackTally.of(pd.concat(counts), pd.concat(hours))


def _offset_changes(since: datetime, until: datetime, zone: ZoneInfo) -> list[int]:
    """Unix seconds of every instant from a day before `since` to `until` at which
    `zone`'s offset changes."""
    probes = _probes(since, until)
    changes = []
    for before, after in zip(probes, probes[1:], strict=False):
        if _offset(before, zone) != _offset(after, zone):
            low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
            while high - low > 1:  # offset(low) is the old one, offset(high) the new one
                middle = (low + high) // 2
                if _offset(datetime.fromtimestamp(middle, UTC), zone) == _offset(before, zone):
                    low = middle
                else:
                    high = middle
            changes.append(high)
    return changes


def _probes(since: datetime, until: datetime) -> list[datetime]:
    """Instants OFFSET_PROBE apart from a day before `since` (the first bucket may start
    up to a day before it) to `until`."""
    start = since - timedelta(seconds=SECONDS_PER_DAY)
    steps = max(1, math.ceil((until - start) / OFFSET_PROBE))
    return [start + step * OFFSET_PROBE for step in range(steps)] + [until]


def _offset(at: datetime, zone: ZoneInfo) -> int:
    return int((at.astimezone(zone).utcoffset() or timedelta(0)).total_seconds())
