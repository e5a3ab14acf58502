"""Listener coverage: the share of each report period in which the listener saw its PBX.

Live figures are only as whole as the listener's sight of the PBX. While it was
stopped, crashed, cut off or resynchronising, calls may have gone unseen; those
intervals are stored as `CoverageGap`s. Every live row of the report carries
`coverage_pct`: the share of its period (up to `now`: the future is not a gap)
that lies inside no gap, from `ringtest.store.coverage.coverage_share`. Ring-test
rows have none: a mystery call is placed and measured by ringtest itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.periods import Period, local_midnight
from ringtest.core.records import CoverageGap
from ringtest.store.coverage import coverage_share

NEXT_PERIOD = {
    Period.DAY: pd.DateOffset(days=1),
    Period.WEEK: pd.DateOffset(weeks=1),
    Period.MONTH: pd.DateOffset(months=1),
}
"""From a period's first local day to the next period's."""


@dataclass(frozen=True)
class Coverage:
    """What coverage is worked out from.

    gaps: the listener's gaps on the report's PBX (any order, may overlap).
    now: aware UTC; the part of a period after it is not counted (not yet seen).
    """

    gaps: Sequence[CoverageGap]
    now: datetime


def coverage_pcts(
    coverage: Coverage,
    period_starts: pd.Series,
    period: Period,
    zone: ZoneInfo,
    since: datetime | None,
    until: datetime | None,
) -> pd.Series:
    """Percent (0-100) of each period the listener saw its PBX, NaN for a period wholly
    after `coverage.now`. period_starts: each row's first local day (naive midnight);
    with Period.ALL the period is [since, until). Bounds are clipped to [since, until)."""
    percents = {
        start: _percent(coverage, *_bounds(start, period, zone, since, until))
        for start in period_starts.unique()
    }
    return period_starts.map(percents).astype(float)


def _bounds(
    start: pd.Timestamp,
    period: Period,
    zone: ZoneInfo,
    since: datetime | None,
    until: datetime | None,
) -> tuple[datetime | None, datetime | None]:
    """[first, last) aware UTC instants of the period starting on local day `start`."""
    if period is Period.ALL:
        return since, until
    first = local_midnight(start.date(), zone)
    last = local_midnight((start + NEXT_PERIOD[period]).date(), zone)
    return max(first, since) if since else first, min(last, until) if until else last


def _percent(coverage: Coverage, first: datetime | None, last: datetime | None) -> float:
    if first is None or last is None:
        return float("nan")
    last = min(last, coverage.now)
    if last <= first:
        return float("nan")
    return 100.0 * coverage_share(coverage.gaps, first, last)
