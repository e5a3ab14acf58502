"""Today's figures for the live view, read from the store by the weekly report's functions.

`day_figures` sums one local calendar day (midnight to midnight in the
calendar's zone, DST-correct) of stored observations and callback obligations
with `analysis.stored` and turns them into rows with `compliance_rows`: the very
path `analysis.report_data.gather_report` takes for a report period. A finished
day therefore shows the same figures live and in the report (a test holds them
equal), and "today" survives a listener restart or an Asterisk reload: it is
in the store, not in a counter. Ring tests are the ``ring test`` source's rows,
with their outcomes counted from the stored results.

With several PBXs, `pbx_day_figures` gives each PBX's day the same way: its live
calls and their callbacks, all departments together (`compliance_rows` with no
grouping), so a PBX's figures are the sum of what its departments show.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd

from analysis.compliance import Tally, compliance_rows
from analysis.periods import Period, local_midnight
from analysis.stored import stored_callbacks, stored_tally
from ringtest.core.observations import Source
from ringtest.core.standards import MetricRules
from ringtest.store import Store

DAY_COUNTS = (
    "offered",
    "answered_by_person",
    "within_standard",
    "missed",
    "abandoned",
    "voicemail",
    "busy",
    "incomplete",
    "callbacks_owed",
    "callbacks_open",
    "callbacks_overdue",
)
"""The whole-number figures of a department's day (`compliance_rows` columns)."""


@dataclass(frozen=True)
class DepartmentDay:
    """One department's figures for one local day.

    counts: DAY_COUNTS of live calls. within_standard_pct: % of offered answered by a
    person within the standard (None: no calls). ring_tests: tests placed;
    ring_tests_within_standard: of them answered within the standard;
    ring_test_outcomes: tests by outcome.
    """

    department: str
    counts: Mapping[str, int]
    within_standard_pct: float | None
    ring_tests: int = 0
    ring_tests_within_standard: int = 0
    ring_test_outcomes: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "department": self.department,
            **self.counts,
            "within_standard_pct": self.within_standard_pct,
            "ring_tests": self.ring_tests,
            "ring_tests_within_standard": self.ring_tests_within_standard,
            "ring_test_outcomes": dict(self.ring_test_outcomes),
        }


@dataclass(frozen=True)
class PbxDay:
    """One PBX's live calls for one local day, all its departments together.

    counts: DAY_COUNTS. within_standard_pct: % of offered answered by a person within
    the standard (None: no calls).
    """

    pbx: str
    counts: Mapping[str, int]
    within_standard_pct: float | None

    def as_dict(self) -> dict[str, object]:
        return {"pbx": self.pbx, **self.counts, "within_standard_pct": self.within_standard_pct}


def day_bounds(day: date, rules: MetricRules) -> tuple[datetime, datetime]:
    """[since, until) in UTC of local `day` in the calendar's zone (23 or 25 h on DST days)."""
    return local_midnight(day, rules.zone), local_midnight(day + timedelta(days=1), rules.zone)


def local_today(now: datetime, rules: MetricRules) -> date:
    """The local calendar date of `now` (aware) in the calendar's zone."""
    return now.astimezone(rules.zone).date()


def day_figures(
    store: Store, rules: MetricRules, departments: Sequence[str], day: date, *, now: datetime
) -> dict[str, DepartmentDay]:
    """Every department's figures for local `day`, callback states judged at `now` (UTC).

    `departments` each get a row, with zeros when they had no calls."""
    since, until = day_bounds(day, rules)
    tallies = [stored_tally(store, rules, since, until, source=source) for source in Source]
    counted = Tally.of([part.counts for part in tallies], [part.rings for part in tallies])
    owed = stored_callbacks(store, rules, since, until, now=now)
    rows = compliance_rows(
        counted,
        owed,
        rules,
        Period.ALL,
        since=since,
        until=until,
        groups=[(name,) for name in departments],
    )
    outcomes: dict[str, Counter[str]] = {}
    for result in store.ring_tests(since, until):
        outcomes.setdefault(result.department, Counter())[result.outcome.value] += 1
    live = rows[rows["source"] == Source.LIVE.value].set_index("department")
    tests = rows[rows["source"] == Source.RING_TEST.value].set_index("department")
    names = list(dict.fromkeys([*departments, *live.index, *tests.index]))
    return {
        name: DepartmentDay(
            department=name,
            counts={count: _whole(live, name, count) for count in DAY_COUNTS},
            within_standard_pct=_percent(live, name, "within_standard_pct"),
            ring_tests=_whole(tests, name, "offered"),
            ring_tests_within_standard=_whole(tests, name, "within_standard"),
            ring_test_outcomes=dict(outcomes.get(name, {})),
        )
        for name in names
    }


def pbx_day_figures(
    store: Store, rules: MetricRules, pbxs: Sequence[str], day: date, *, now: datetime
) -> dict[str, PbxDay]:
    """Each of `pbxs`' live figures for local `day`, callback states judged at `now` (UTC);
    a PBX with no calls has zeros."""
    since, until = day_bounds(day, rules)
    figures = {}
    for pbx in pbxs:
        counted = stored_tally(store, rules, since, until, pbx=pbx)
        owed = stored_callbacks(store, rules, since, until, now=now, pbx=pbx)
        rows = compliance_rows(counted, owed, rules, Period.ALL, by=(), since=since, until=until)
        live = rows[rows["source"] == Source.LIVE.value].set_index("source")
        figures[pbx] = PbxDay(
            pbx=pbx,
            counts={count: _whole(live, Source.LIVE.value, count) for count in DAY_COUNTS},
            within_standard_pct=_percent(live, Source.LIVE.value, "within_standard_pct"),
        )
    return figures


def _whole(rows: pd.DataFrame, key: str, column: str) -> int:
    """Row `key`'s `column` as a whole number (0: no such row)."""
    if key not in rows.index:
        return 0
    value = rows.at[key, column]
    return 0 if pd.isna(value) else int(value)


def _percent(rows: pd.DataFrame, key: str, column: str) -> float | None:
    """Row `key`'s `column` as a percentage (None: no such row, or no calls)."""
    if key not in rows.index:
        return None
    value = float(rows.at[key, column])
    return None if math.isnan(value) else value
