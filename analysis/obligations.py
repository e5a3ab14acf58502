"""Callback figures: obligations summed per local day, then per period.

Like calls (`analysis.compliance.Tally`), callback obligations are first summed
into a `CallbackTally` of day-level counts and an exact histogram of callback
latencies, which add up across chunks; the database makes them
(`analysis.stored` over `ringtest.store.aggregates.obligation_sums`). `callback_rows`
re-adds them to the periods asked for; the latency quantiles are pandas' own
(linear interpolation) over the histogram expanded back to one value per
obligation, so they are exactly what the rows would give.

Definitions (README "How we measure"): an obligation belongs to the period of its
missed call's start; as of the report's `now` it is in one `CallbackState`
(`ringtest.store.aggregates`, where the states are defined): returned in time
(its deadline has passed and it was called back by then), returned late or never
(its deadline has passed and it was not), or not yet due (its deadline is still
ahead). The share returned in time is of the obligations whose deadline has
passed only. Latency: working hours of called-back obligations only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.periods import Period, period_starts
from ringtest.core.observations import Source
from ringtest.store.aggregates import CallbackState

CALLBACK_KEYS = ("day", "department", "line")
CALLBACK_STATE_COUNTS = {
    "called_back_within_standard": CallbackState.RETURNED_IN_TIME,
    "callbacks_late_or_never": CallbackState.LATE_OR_NEVER,
    "callbacks_not_yet_due": CallbackState.NOT_YET_DUE,
}
"""The count of obligations in each `CallbackState`, by its column name."""
CALLBACK_COUNTS = (
    "callbacks_owed",
    *CALLBACK_STATE_COUNTS,
    "caller_got_through",
    "callbacks_open",
    "callbacks_overdue",
)
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class CallbackTally:
    """Day-level sums of callback obligations (live calls only).

    counts: one row per CALLBACK_KEYS (day: local date as a naive midnight) with CALLBACK_COUNTS.
    hours: one row per CALLBACK_KEYS and `hours` (working hours to the call back, exact)
        with `obligations`, the called-back obligations that took exactly that long.
    """

    counts: pd.DataFrame
    hours: pd.DataFrame

    @classmethod
    def of(cls, counts: pd.DataFrame, hours: pd.DataFrame) -> CallbackTally:
        """Sum `counts` and `hours` rows that share their keys."""
        keys = list(CALLBACK_KEYS)
        return cls(
            counts.groupby(keys, sort=True)[list(CALLBACK_COUNTS)].sum().reset_index(),
            hours.groupby([*keys, "hours"], sort=True)["obligations"].sum().reset_index(),
        )

    def between_days(self, first: pd.Timestamp, last: pd.Timestamp) -> CallbackTally:
        """Only the local days first..last (inclusive)."""

        def within(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[(frame["day"] >= first) & (frame["day"] <= last)]

        return CallbackTally(within(self.counts), within(self.hours))

    def hours_of_each(self) -> pd.DataFrame:
        """One row per called-back obligation: department and hours (the histogram expanded)."""
        expanded = self.hours.loc[self.hours.index.repeat(self.hours["obligations"])]
        return expanded[["department", "hours"]].reset_index(drop=True)


def callback_rows(owed: CallbackTally, period: Period, by: Sequence[str]) -> pd.DataFrame:
    """CALLBACK_COUNTS and the median and p90 callback working hours per source
    (live), `period` start and `by` group (department and/or line)."""
    keys = ["source", "period_start", *by]

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        starts = period_starts(pd.to_datetime(frame["day"]), period)
        return frame.assign(source=Source.LIVE.value, period_start=starts)

    sums = keyed(owed.counts).groupby(keys, sort=True)[list(CALLBACK_COUNTS)].sum()
    hours = owed.hours
    each = keyed(hours.loc[hours.index.repeat(hours["obligations"])])
    grouped = each.groupby(keys, sort=True)["hours"]
    sums["median_callback_working_hours"] = grouped.quantile(0.5)
    sums["p90_callback_working_hours"] = grouped.quantile(0.9)
    return sums.reset_index()
