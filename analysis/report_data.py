"""Everything one report shows, read in one pass over the store.

`gather_report` has the database sum the stored observations (live calls and
ring tests) and callback obligations of the report period and the `TREND_WEEKS`
weeks ending with it into day-level tallies (`analysis.stored`: only sums cross
into Python, so 10M calls take seconds and little memory), and asks
`compliance_rows` for the period's rows (per department, both sources: every
configured department has a row, with 0 calls when it had none) and the weekly
trend rows. Callback obligations are judged as of the report's `now`, which the
caller gives: nothing here reads the clock. The headline table and the sentences
(`analysis.report_tables`), the charts, the PDF, the HTML summary, the CSV and the
email are all made from the `ReportData` it returns.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.compliance import Tally, compliance_rows
from analysis.coverage import Coverage
from analysis.ivr_lines import ivr_lines
from analysis.periods import Period, local_days, weeks_back
from analysis.stored import stored_callbacks, stored_tally
from ringtest.config import Settings
from ringtest.config.adapters import metric_rules_of
from ringtest.core.calendar import parse_opening_hours
from ringtest.core.observations import Source
from ringtest.store import Store

TREND_WEEKS = 12
PBX_OF = {Source.LIVE: lambda pbx: pbx, Source.RING_TEST: lambda pbx: None}
"""For a report of one PBX, the PBX each source's observations are read from: live
calls from that PBX; ring tests from none in particular (then only its departments')."""


@dataclass(frozen=True)
class ReportData:
    """The figures of one report.

    since, until: the period, aware UTC instants of local midnights, until exclusive.
    now: the instant (aware UTC) callback deadlines are judged at.
    timezone: the calendar's zone, whose local days the periods are.
    rows: `compliance_rows` for the period, one row per source and department
        (every configured department has a live row).
    weekly: `compliance_rows` per ISO week for the TREND_WEEKS weeks ending with the period.
    rings: person-answered calls by source, department and rings heard, in the period.
    callback_hours: department and working hours to the call back, called-back
        obligations of calls that started in the period.
    """

    title: str
    when: str
    since: datetime
    until: datetime
    now: datetime
    timezone: str
    standard_rings: int
    callback_days: int
    working_day_hours: float
    target_percent: float
    rows: pd.DataFrame
    weekly: pd.DataFrame
    rings: pd.DataFrame
    callback_hours: pd.DataFrame
    ivr_lines: pd.DataFrame = field(default_factory=lambda: ivr_lines([]))

    def departments(self) -> list[str]:
        """Every department in the report, in alphabetical order."""
        return sorted(self.rows["department"].unique())

    def departments_with_calls(self) -> list[str]:
        """Departments with a real or mystery call in the period, in alphabetical order."""
        return sorted(self.rows.loc[self.rows["offered"] > 0, "department"].unique())

    def owed_by_department(self) -> dict[str, int]:
        """Callback obligations opened in the period, per department (live calls)."""
        live = self.rows[self.rows["source"] == Source.LIVE]
        return dict(zip(live["department"], live["callbacks_owed"].astype(int), strict=True))

    def of_department(self, department: str) -> ReportData:
        """The same report narrowed to one department."""
        return ReportData(
            **{
                **self.__dict__,
                "title": f"{department}: {self.title}",
                **{
                    name: frame[frame["department"] == department]
                    for name in ("rows", "weekly", "rings", "callback_hours", "ivr_lines")
                    for frame in [getattr(self, name)]
                },
            }
        )


def gather_report(
    settings: Settings,
    store: Store,
    since: datetime,
    until: datetime,
    title: str,
    when: str,
    department: str | None = None,
    *,
    now: datetime,
    pbx: str | None = None,
) -> ReportData:
    """Read [since, until) and the trend weeks before it from `store` into `ReportData`,
    callback obligations judged as of `now` (aware UTC). The configured departments
    (of `[[lines]]`; only `department` when given) each get a row.

    pbx: one PBX's report: its live calls, callbacks and coverage, and the ring tests
    of its lines' departments (a ring test dials a public number, not a PBX); None:
    every PBX together. `ConfigError` when no PBX has that name."""
    rules = metric_rules_of(settings)
    trend_since = min(since, weeks_back(until, rules.zone, TREND_WEEKS))
    scope = settings if pbx is None else settings.pbx_view(pbx)
    configured = [department] if department else [line.department for line in scope.lines]
    groups = [(name,) for name in configured]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-callbacks") as worker:
        # the database sums obligations on another connection while it sums observations
        owed_sums = worker.submit(
            stored_callbacks, store, rules, trend_since, until, department, now=now, pbx=pbx
        )
        tallies = [
            stored_tally(
                store, rules, trend_since, until, department, source, pbx=PBX_OF[source](pbx)
            )
            for source in Source
        ]
        owed = owed_sums.result()
    pbxs = {pbx} if pbx is not None else set(settings.pbx_names())
    gaps = [gap for gap in store.gaps(trend_since, until) if gap.pbx in pbxs]
    coverage = Coverage(gaps, now)
    counted = Tally.of([part.counts for part in tallies], [part.rings for part in tallies])
    if pbx is not None:
        counted = counted.of_departments(configured)
    first, last = _days_of(since, until, rules.zone)
    in_period = counted.between_days(first, last)
    owed_in_period = owed.between_days(first, last)
    rows = compliance_rows(
        in_period,
        owed_in_period,
        rules,
        Period.ALL,
        since=since,
        until=until,
        groups=groups,
        coverage=coverage,
    )
    weekly = compliance_rows(
        counted,
        owed,
        rules,
        Period.WEEK,
        since=weeks_back(until, rules.zone, TREND_WEEKS),
        until=until,
        groups=groups,
        coverage=coverage,
    )
    return ReportData(
        title=title,
        when=when,
        since=since,
        until=until,
        now=now,
        timezone=settings.calendar.timezone,
        standard_rings=settings.standards.answer_within_rings,
        callback_days=settings.standards.callback_within_working_days,
        working_day_hours=working_day_hours(settings),
        target_percent=settings.report.target_percent,
        rows=rows,
        weekly=weekly,
        rings=in_period.rings.groupby(["source", "department", "rings"], as_index=False)[
            "calls"
        ].sum(),
        callback_hours=owed_in_period.hours_of_each(),
        ivr_lines=ivr_lines(
            test
            for test in store.ring_tests(since, until, department)
            if pbx is None or test.department in configured
        ),
    )


def working_day_hours(settings: Settings) -> float:
    """Hours of the longest opening day: what one working day of callback time is."""
    minutes = [
        sum(closes - opens for opens, closes in parse_opening_hours(text))
        for text in settings.calendar.opening_hours().values()
    ]
    return max(minutes) / 60.0


def _days_of(since: datetime, until: datetime, zone: ZoneInfo) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first and last local days of [since, until)."""
    first, last = local_days(pd.Series([since, until - timedelta(microseconds=1)]), zone)
    return first, last
