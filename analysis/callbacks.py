"""Callback figures: obligations summed per local day, then per period.

Like calls (`analysis.compliance.Tally`), callback obligations are first summed
into a `CallbackTally` of day-level counts and an exact histogram of callback
latencies, which add up across chunks and can be made by the database
(`analysis.stored`) or from obligation rows (`tally_obligations`). `callback_rows`
re-adds them to the periods asked for; the latency quantiles are pandas' own
(linear interpolation) over the histogram expanded back to one value per
obligation, so they are exactly what the rows would give.

Definitions (README "How we measure"): an obligation belongs to the period of its
missed call's start; called back within the standard: status called_back and
closed no later than the deadline; latency: working hours of called-back
obligations only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd

from analysis.observations import LIVE
from analysis.periods import Period, local_days, period_starts
from ringtest.records import CallbackStatus

CALLBACK_KEYS = ("day", "department", "line")
CALLBACK_COUNTS = (
    "callbacks_owed",
    "called_back_within_standard",
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


def tally_obligations(obligations: pd.DataFrame, zone: ZoneInfo) -> CallbackTally:
    """Obligation rows (`analysis.observations.OBLIGATION_COLUMNS`) as a `CallbackTally`
    of the local days of `zone`."""
    status = obligations["status"]
    called_back = status == CallbackStatus.CALLED_BACK
    day = local_days(obligations["started_at"], zone)
    keys = {"day": day, "department": obligations["department"], "line": obligations["line"]}
    counts = pd.DataFrame(
        {
            **keys,
            "callbacks_owed": 1,
            "called_back_within_standard": called_back
            & (obligations["closed_at"] <= obligations["deadline_at"]),
            "caller_got_through": status == CallbackStatus.CALLER_GOT_THROUGH,
            "callbacks_open": status == CallbackStatus.OPEN,
            "callbacks_overdue": status == CallbackStatus.OVERDUE,
        }
    )
    latency = obligations["working_seconds"].where(called_back)
    hours = pd.DataFrame({**keys, "hours": latency / SECONDS_PER_HOUR, "obligations": 1})
    return CallbackTally.of(counts, hours[latency.notna()])


def callback_rows(owed: CallbackTally, period: Period, by: Sequence[str]) -> pd.DataFrame:
    """CALLBACK_COUNTS and the median and p90 callback working hours per source
    (live), `period` start and `by` group (department and/or line)."""
    keys = ["source", "period_start", *by]

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        starts = period_starts(pd.to_datetime(frame["day"]), period)
        return frame.assign(source=LIVE, period_start=starts)

    sums = keyed(owed.counts).groupby(keys, sort=True)[list(CALLBACK_COUNTS)].sum()
    hours = owed.hours
    each = keyed(hours.loc[hours.index.repeat(hours["obligations"])])
    grouped = each.groupby(keys, sort=True)["hours"]
    sums["median_callback_working_hours"] = grouped.quantile(0.5)
    sums["p90_callback_working_hours"] = grouped.quantile(0.9)
    return sums.reset_index()
