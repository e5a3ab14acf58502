"""Compliance with the answering and callback standards: the one function every figure comes from.

`compliance_rows` turns day-level sums of observations (live calls and ring
tests, `ringtest.core.observations`) and of callback obligations into one row per
source, period and group (department, line). The weekly report's tables,
charts, PDF, HTML and CSV, the public page and the demo's headline all consume
its rows, so they cannot disagree.

It works in two steps so that millions of calls fit in memory: the database
sums observations into a day-level `Tally` of counts and a histogram of rings
(`analysis.stored` over `ringtest.store.aggregates`, where each counted metric
is defined once; both add up exactly across chunks and sources), and
`compliance_rows` re-adds those to the period asked for and derives the
percentages. Medians and 90th percentiles of rings are exact: they are read off
the histogram with the same linear interpolation as `pandas.Series.quantile`.

Definitions (also in the README's "How we measure"), T being the rings standard:

* offered: every call (live: ring tests left out; ring tests: every test placed);
* answered_by_person: a person picked up (voicemail and IVRs do not count);
* within_standard: a person picked up within T rings; its % is of offered,
  with a Wilson 95 % interval (ring-test samples are small);
* within_standard_uncertain: calls a person answered whose ring time is whole seconds
  (a CDR's, a queue_log's) and so near the standard's last instant that its error could
  turn the verdict (`RingRule.uncertain_between`), shown beside the % ("±1 s CDR");
* ring_time_unknown: calls whose history has no ring time (a CDR where the PBX answered
  first): offered, never within the standard, counted apart ("ring time not in the
  CDR"), and neither an abandon within the standard nor a short one;
* median_rings, p90_rings: rings heard before a person answered;
* announced_name, name_not_announced, announced_name_unsure: ring tests a person
  answered whose greeting was audited, by the audit's verdict (the standard's "clearly
  announce our name"); announced_name_pct is announced_name of the tests with a yes or
  no verdict, with a Wilson 95 % interval; unsure verdicts are counted apart, in neither
  the share nor its denominator, and no audited test gives NaN (shown "-"), not 0 %;
* abandoned, voicemail, busy, failed, incomplete: counts by outcome;
* answered_by_ivr: answered, but by the PBX itself (an IVR), never by a person;
* service_level_pct (SL): within_standard / answered_by_person;
* service_level_2_pct (SL2): (within_standard + abandoned within T rings) /
  (answered_by_person + abandoned);
* inclusive_rate_pct: within_standard / (offered - short_abandons), a short
  abandon being a caller who hung up within `short_abandon_seconds` of ringing;
* missed: abandoned + voicemail + busy + failed;
* callbacks_owed: obligations opened by the missed calls (callers with a number),
  each, as of the report's `now`, returned in time (called_back_within_standard),
  returned late or never (callbacks_late_or_never: the deadline passed first) or
  not yet due (callbacks_not_yet_due: the deadline is still ahead);
  called_back_within_standard_pct is of the obligations whose deadline has passed;
  caller_got_through, callbacks_open, callbacks_overdue: by status;
* median/p90_callback_working_hours: working hours from the miss to the call back;
* incomplete: calls the listener did not see whole (it was down or cut off while
  they rang). They are shown apart ("not fully seen") and counted nowhere else:
  not offered, not answered, not missed;
* coverage_pct: live rows only, the share of the period the listener saw its PBX
  (`analysis.coverage`), NaN when no `Coverage` is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import product
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from analysis.coverage import Coverage, coverage_pcts
from analysis.obligations import CALLBACK_COUNTS, CallbackTally, callback_rows
from analysis.periods import Period, period_label, period_starts, starts_between
from ringtest.core.observations import Source
from ringtest.core.records import CallOutcome, Heard
from ringtest.core.standards import MetricRules

__all__ = [
    "compliance_rows",
    "wilson_interval",
]

Z_95 = 1.959963984540054
TALLY_KEYS = ("source", "day", "department", "line")
OUTCOME_COUNTS = tuple(
    outcome.value
    for outcome in (
        CallOutcome.ABANDONED,
        CallOutcome.VOICEMAIL,
        CallOutcome.BUSY,
        CallOutcome.FAILED,
        CallOutcome.INCOMPLETE,
    )
)
MISSED = ("abandoned", "voicemail", "busy", "failed")
ANNOUNCED_NAME_COUNTS = {
    Heard.YES: "announced_name",
    Heard.NO: "name_not_announced",
    Heard.UNSURE: "announced_name_unsure",
}
"""The count of audited, person-answered ring tests of each `announced_name` verdict."""
COUNTED = (
    "offered",
    "answered_by_person",
    "within_standard",
    *OUTCOME_COUNTS,
    "abandoned_within_standard",
    "short_abandons",
    "answered_by_ivr",
    "ring_time_unknown",
    "within_standard_uncertain",
    *ANNOUNCED_NAME_COUNTS.values(),
)
METRICS = (
    "offered",
    "answered_by_person",
    "within_standard",
    "within_standard_pct",
    "wilson_low_pct",
    "wilson_high_pct",
    "within_standard_uncertain",
    "ring_time_unknown",
    "median_rings",
    "p90_rings",
    *OUTCOME_COUNTS,
    "answered_by_ivr",
    "service_level_pct",
    "service_level_2_pct",
    "short_abandons",
    "inclusive_rate_pct",
    "missed",
    "callbacks_owed",
    "called_back_within_standard",
    "called_back_within_standard_pct",
    "callbacks_late_or_never",
    "callbacks_not_yet_due",
    "caller_got_through",
    "callbacks_open",
    "callbacks_overdue",
    "median_callback_working_hours",
    "p90_callback_working_hours",
    "coverage_pct",
    *ANNOUNCED_NAME_COUNTS.values(),
    "announced_name_pct",
    "announced_name_wilson_low_pct",
    "announced_name_wilson_high_pct",
)


@dataclass(frozen=True)
class Tally:
    """Day-level sums of observations, which add up exactly across chunks and sources.

    counts: one row per TALLY_KEYS with the COUNTED sums.
    rings: one row per TALLY_KEYS and `rings` with `calls`, person-answered calls only.
    """

    counts: pd.DataFrame
    rings: pd.DataFrame

    @classmethod
    def of(cls, counts: Sequence[pd.DataFrame], rings: Sequence[pd.DataFrame]) -> Tally:
        """The sum of partial `counts` and `rings` frames (rows sharing keys added up)."""
        keys = list(TALLY_KEYS)
        return cls(
            _summed(counts, keys, [*keys, *COUNTED]),
            _summed(rings, [*keys, "rings"], [*keys, "rings", "calls"]),
        )

    def of_departments(self, departments: Sequence[str]) -> Tally:
        """Only the rows of `departments`."""
        return Tally(
            self.counts[self.counts["department"].isin(departments)],
            self.rings[self.rings["department"].isin(departments)],
        )

    def between_days(self, first: pd.Timestamp, last: pd.Timestamp) -> Tally:
        """Only the local days first..last (inclusive)."""

        def within(frame: pd.DataFrame) -> pd.DataFrame:
            days = pd.to_datetime(frame["day"])
            return frame[(days >= first) & (days <= last)]

        return Tally(within(self.counts), within(self.rings))


def _summed(frames: Sequence[pd.DataFrame], keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Non-empty `frames` concatenated and summed per `keys`; no rows: an empty frame."""
    frames = [frame for frame in frames if len(frame)]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames).groupby(keys, sort=True).sum().reset_index()


def compliance_rows(
    counted: Tally,
    obligations: CallbackTally | None,
    rules: MetricRules,
    period: Period = Period.WEEK,
    by: Sequence[str] = ("department",),
    since: datetime | None = None,
    until: datetime | None = None,
    groups: Sequence[tuple[str, ...]] = (),
    coverage: Coverage | None = None,
) -> pd.DataFrame:
    """One row per source, period and `by` group with `METRICS`; the one source of figures.

    With `since` and `until` (the range the data was read for), every period of the
    range gets a row for every group seen, with zero calls where nothing happened.
    `groups`: values of `by` (the configured departments) that get a live row in
    every period even with no calls at all. `obligations`: the callback tally of
    the same range, None for none. `coverage`: the listener's gaps, for the live rows'
    coverage_pct. Columns: source, period (label), period_start (local first day),
    *by, *METRICS.
    """
    keys = ["source", "period_start", *by]
    counts = _by_period(counted.counts, period, keys, COUNTED)
    counts = _with_groups(counts, keys, groups)
    if since is not None and until is not None and period is not Period.ALL:
        counts = _with_empty_periods(counts, keys, starts_between(since, until, rules.zone, period))
    rows = counts.merge(_ring_quantiles(counted.rings, period, keys), on=keys, how="left")
    if obligations is not None and len(obligations.counts):
        rows = rows.merge(callback_rows(obligations, period, by), on=keys, how="outer")
    for name in COUNTED + CALLBACK_COUNTS:
        rows[name] = rows[name].fillna(0).astype(int) if name in rows else 0
    rows = _derived(rows)
    label = _label_of_range(since, until, rules.zone) if period is Period.ALL else None
    if period is Period.ALL and since is not None:
        rows["period_start"] = pd.Timestamp(since.astimezone(rules.zone).date())
    rows.insert(1, "period", [label or period_label(start, period) for start in rows.period_start])
    if coverage is not None:
        live = rows["source"] == Source.LIVE
        rows.loc[live, "coverage_pct"] = coverage_pcts(
            coverage, rows.loc[live, "period_start"], period, rules.zone, since, until
        )
    for name in METRICS:
        if name not in rows:
            rows[name] = math.nan
    ordered = rows.sort_values(keys, kind="stable").reset_index(drop=True)
    return ordered[["source", "period", "period_start", *by, *METRICS]]


def wilson_interval(successes: int, trials: int) -> tuple[float, float]:
    """Wilson score 95 % interval for a proportion, as (low, high) fractions; (nan, nan) if 0."""
    low, high = _wilson(np.array([successes]), np.array([trials]))
    return float(low[0]), float(high[0])


def _wilson(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        n = trials.astype(float)
        p = successes / n
        denominator = 1 + Z_95**2 / n
        centre = (p + Z_95**2 / (2 * n)) / denominator
        half = Z_95 * np.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n**2)) / denominator
    return np.clip(centre - half, 0.0, None), np.clip(centre + half, None, 1.0)


def _by_period(
    frame: pd.DataFrame, period: Period, keys: list[str], values: Sequence[str]
) -> pd.DataFrame:
    frame = frame.assign(period_start=period_starts(pd.to_datetime(frame["day"]), period))
    return frame.groupby(keys, sort=True)[list(values)].sum().reset_index()


def _with_groups(
    counts: pd.DataFrame, keys: list[str], groups: Sequence[tuple[str, ...]]
) -> pd.DataFrame:
    """`counts` with a zero live row for each of `groups` that has no live row yet."""
    seen = set(counts.loc[counts["source"] == Source.LIVE, keys[2:]].itertuples(index=False))
    start = counts["period_start"].min() if len(counts) else pd.Timestamp(0)
    missing = [
        {"source": Source.LIVE.value, "period_start": start}
        | dict(zip(keys[2:], group, strict=True))
        for group in dict.fromkeys(groups)
        if tuple(group) not in seen
    ]
    if not missing:
        return counts
    zeros = pd.DataFrame(missing).assign(**{name: 0 for name in COUNTED})
    return pd.concat([counts, zeros], ignore_index=True) if len(counts) else zeros


def _with_empty_periods(counts: pd.DataFrame, keys: list[str], starts: list) -> pd.DataFrame:
    """Every period of `starts` for every (source, group) already present, zeros where empty."""
    group_keys = [key for key in keys if key != "period_start"]
    groups = counts[group_keys].drop_duplicates().itertuples(index=False, name=None)
    full = [(*group[:1], start, *group[1:]) for group, start in product(groups, starts)]
    index = pd.MultiIndex.from_tuples(full, names=keys) if full else None
    if index is None:
        return counts
    return counts.set_index(keys).reindex(index, fill_value=0).reset_index()


def _ring_quantiles(rings: pd.DataFrame, period: Period, keys: list[str]) -> pd.DataFrame:
    histogram = _by_period(rings, period, [*keys, "rings"], ["calls"])
    rows = []
    for key, group in histogram.groupby(keys, sort=False):
        values = group["rings"].to_numpy(float)
        counts = group["calls"].to_numpy(int)
        rows.append((*key, _quantile(values, counts, 0.5), _quantile(values, counts, 0.9)))
    quantiles = pd.DataFrame(rows, columns=[*keys, "median_rings", "p90_rings"])
    return quantiles.astype({"period_start": "datetime64[ns]"})


def _quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The q-quantile of `values` repeated `counts` times (sorted), interpolated linearly."""
    total = int(counts.sum())
    if total == 0:
        return math.nan
    cumulative = np.cumsum(counts)
    position = q * (total - 1)
    below = int(math.floor(position))
    low = values[np.searchsorted(cumulative, below, side="right")]
    high = values[np.searchsorted(cumulative, min(below + 1, total - 1), side="right")]
    return float(low + (position - below) * (high - low))


def _derived(rows: pd.DataFrame) -> pd.DataFrame:
    def percent(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
        return (100.0 * numerator / denominator.where(denominator > 0)).astype(float)

    low, high = _wilson(rows["within_standard"].to_numpy(), rows["offered"].to_numpy())
    judged = rows["announced_name"] + rows["name_not_announced"]
    named_low, named_high = _wilson(rows["announced_name"].to_numpy(), judged.to_numpy())
    return rows.assign(
        within_standard_pct=percent(rows["within_standard"], rows["offered"]),
        wilson_low_pct=100.0 * low,
        wilson_high_pct=100.0 * high,
        service_level_pct=percent(rows["within_standard"], rows["answered_by_person"]),
        service_level_2_pct=percent(
            rows["within_standard"] + rows["abandoned_within_standard"],
            rows["answered_by_person"] + rows["abandoned"],
        ),
        inclusive_rate_pct=percent(
            rows["within_standard"], rows["offered"] - rows["short_abandons"]
        ),
        missed=rows[list(MISSED)].sum(axis=1).astype(int),
        called_back_within_standard_pct=percent(
            rows["called_back_within_standard"],
            rows["called_back_within_standard"] + rows["callbacks_late_or_never"],
        ),
        announced_name_pct=percent(rows["announced_name"], judged),
        announced_name_wilson_low_pct=100.0 * named_low,
        announced_name_wilson_high_pct=100.0 * named_high,
    )


def _label_of_range(since: datetime | None, until: datetime | None, zone: ZoneInfo) -> str:
    if since is None or until is None:
        return "all"
    first = since.astimezone(zone).date()
    last = (until.astimezone(zone) - pd.Timedelta(microseconds=1)).date()
    return f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
