"""Reporting periods in the service's local time: day, ISO week, month.

A call belongs to the local day, ISO week (Monday to Sunday) and month in which
it started. Instants are stored in UTC; here they are turned into the local
wall-clock date of the calendar's zone, and periods are keyed by their first
local day (a naive midnight `Timestamp`). Period bounds handed back to the store
are aware UTC instants of local midnights, so a week is exactly Monday 00:00 to
the next Monday 00:00 local time, whatever the clocks did in between.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import pandas as pd

from ringtest.core.errors import ReportError

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class Period(StrEnum):
    """How rows are bucketed in time. ALL is one bucket for the whole range asked for."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


def local_days(started_at: pd.Series, zone: ZoneInfo) -> pd.Series:
    """Each UTC instant's local date, as a naive midnight datetime64 (vectorised)."""
    return started_at.dt.tz_convert(zone).dt.tz_localize(None).dt.floor("D")


def period_starts(days: pd.Series, period: Period) -> pd.Series:
    """The first local day of the `period` each local day (naive midnight) falls in."""
    if period is Period.DAY:
        return days
    if period is Period.WEEK:
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    if period is Period.MONTH:
        return days.dt.to_period("M").dt.start_time
    return pd.Series(pd.Timestamp(0), index=days.index)


def period_label(start: pd.Timestamp, period: Period) -> str:
    """`2026-11-23`, `2026-W48` or `2026-11` for a period's first local day."""
    if period is Period.DAY:
        return start.strftime("%Y-%m-%d")
    if period is Period.WEEK:
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period is Period.MONTH:
        return start.strftime("%Y-%m")
    return "all"


def starts_between(since: datetime, until: datetime, zone: ZoneInfo, period: Period) -> list:
    """First local days of every `period` that overlaps [since, until), in order."""
    first = pd.Series([pd.Timestamp(since)]).pipe(local_days, zone).pipe(period_starts, period)[0]
    last_instant = until - timedelta(microseconds=1)
    last = pd.Series([pd.Timestamp(last_instant)]).pipe(local_days, zone)
    last = period_starts(last, period)[0]
    step = {Period.DAY: "D", Period.WEEK: "7D", Period.MONTH: "MS"}[period]
    return list(pd.date_range(first, last, freq=step))


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of 00:00 local time on `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def iso_week_bounds(week: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local time of ISO week `2026-W47`, in UTC."""
    match = _ISO_WEEK.match(week)
    try:
        if match is None:
            raise ValueError
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ReportError(
            f"'{week}' is not an ISO week: write it like 2026-W47 (year, W, week 01-53)"
        ) from None
    return local_midnight(monday, zone), local_midnight(monday + timedelta(days=7), zone)


def previous_week(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The last whole ISO week before `now`'s local week, as UTC bounds."""
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    last_monday = this_monday - timedelta(days=7)
    return local_midnight(last_monday, zone), local_midnight(this_monday, zone)


def previous_month(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The last whole calendar month before `now`'s local month, as UTC bounds."""
    first_of_this = now.astimezone(zone).date().replace(day=1)
    first_of_last = (first_of_this - timedelta(days=1)).replace(day=1)
    return local_midnight(first_of_last, zone), local_midnight(first_of_this, zone)


def weeks_back(until: datetime, zone: ZoneInfo, weeks: int) -> datetime:
    """Local Monday 00:00 (UTC) `weeks` ISO weeks before the week holding `until`'s last instant."""
    last_day = (until - timedelta(microseconds=1)).astimezone(zone).date()
    monday = last_day - timedelta(days=last_day.weekday())
    return local_midnight(monday - timedelta(days=7 * (weeks - 1)), zone)
