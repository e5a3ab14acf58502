"""Working time: when a service is open, in its own local time, holidays included.

A `WorkingCalendar` knows a time zone, the opening hours of each weekday, the
public holidays of a country (and subdivision, e.g. Scotland) and any extra
closed dates. A *working day* is a local date that is not a holiday, not an
extra closed date and has opening hours. Opening hours are half-open local
wall-clock ranges: open at 09:00:00, closed at 17:00:00.

All arithmetic is done in integer microseconds since the Unix epoch, on the UTC
instants of each day's local opening and closing times. That makes it exact
(sums are additive to the microsecond) and DST-correct (a day on which the
clocks change still opens at 09:00 local time; a 24-hour day is 23 or 25 hours
long). Work is proportional to the number of days spanned, never to minutes,
and each day's hours are computed once and cached.

Instants in and out are timezone-aware `datetime`s; a naive one is a
`ValueError`, because its meaning would be a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys in `date.weekday()` order, as written in `[calendar]`."""

DEFAULT_OPENING_HOURS: Mapping[str, str] = {
    "mon": "09:00-17:00",
    "tue": "09:00-17:00",
    "wed": "09:00-17:00",
    "thu": "09:00-17:00",
    "fri": "09:00-17:00",
    "sat": "closed",
    "sun": "closed",
}

CLOSED = "closed"
OPENING_HOURS_FORMAT = 'write HH:MM-HH:MM (several separated by commas) or "closed"'

_RANGE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_MINUTES_PER_DAY = 24 * 60
_SEARCH_LIMIT_DAYS = 3 * 366
_CACHED_DAYS = 8192

OpeningRanges = tuple[tuple[int, int], ...]
"""One day's opening hours: ascending (opens_minute, closes_minute) pairs, minutes after
local midnight, closes_minute up to 1440 (24:00)."""


def parse_opening_hours(text: str) -> OpeningRanges:
    """Parse one weekday's opening hours, e.g. ``"09:00-12:30, 13:30-17:00"`` or ``"closed"``.

    Raises `ValueError` whose message says what is wrong and how to write it.
    """
    cleaned = text.strip().lower()
    if cleaned == CLOSED:
        return ()
    ranges: list[tuple[int, int]] = []
    for part in cleaned.split(","):
        match = _RANGE.match(part.strip())
        if match is None:
            raise ValueError(f"is not opening hours: {OPENING_HOURS_FORMAT}")
        opens_hour, opens_minute, closes_hour, closes_minute = map(int, match.groups())
        opens = opens_hour * 60 + opens_minute
        closes = closes_hour * 60 + closes_minute
        if opens >= _MINUTES_PER_DAY or closes > _MINUTES_PER_DAY:
            raise ValueError(f"is not opening hours: {OPENING_HOURS_FORMAT}")
        if closes <= opens:
            raise ValueError(
                'ends before it starts: write HH:MM-HH:MM with the end after the start, or "closed"'
            )
        if ranges and opens < ranges[-1][1]:
            raise ValueError("has overlapping or unordered ranges: list them in order, apart")
        ranges.append((opens, closes))
    return tuple(ranges)


def format_opening_hours(ranges: OpeningRanges) -> str:
    """The canonical text of parsed opening hours: ``"09:00-17:00"`` or ``"closed"``."""
    if not ranges:
        return CLOSED
    return ", ".join(f"{_hhmm(opens)}-{_hhmm(closes)}" for opens, closes in ranges)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def epoch_microseconds(instant: datetime, name: str = "instant") -> int:
    """`instant` as whole microseconds since the Unix epoch; naive datetimes are refused."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {instant!r}")
    return (instant - _EPOCH) // _ONE_MICROSECOND


def utc_instant(microseconds: int) -> datetime:
    """The UTC `datetime` for whole microseconds since the Unix epoch."""
    return _EPOCH + timedelta(microseconds=microseconds)


class WorkingCalendar:
    """Opening hours and closed days of one service, in its local time zone.

    timezone: IANA name, e.g. ``"Europe/London"``.
    opening_hours: weekday key (``"mon"`` .. ``"sun"``) to hours text; weekdays not
        given keep `DEFAULT_OPENING_HOURS` (Mon-Fri 09:00-17:00, weekend closed).
    country, subdivision: public holidays from `holidays.country_holidays`,
        e.g. ``("GB", "SCT")`` for Scotland; country None means no public holidays.
    extra_closed_dates: further local dates on which the service is closed.
    """

    def __init__(
        self,
        timezone: str = "Europe/London",
        opening_hours: Mapping[str, str] | None = None,
        country: str | None = "GB",
        subdivision: str | None = None,
        extra_closed_dates: Iterable[date] = (),
    ) -> None:
        given = dict(opening_hours or {})
        unknown = sorted(set(given) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}: use one of {', '.join(WEEKDAYS)}")
        hours = {**DEFAULT_OPENING_HOURS, **given}
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._weekday_ranges: tuple[OpeningRanges, ...] = tuple(
            parse_opening_hours(hours[weekday]) for weekday in WEEKDAYS
        )
        if not any(self._weekday_ranges):
            raise ValueError("the opening hours are closed on every day of the week")
        self._holidays = holidays.country_holidays(country, subdiv=subdivision) if country else None
        self._extra_closed_dates = frozenset(extra_closed_dates)
        self._day_ranges_us = lru_cache(maxsize=_CACHED_DAYS)(self._compute_day_ranges_us)

    def __repr__(self) -> str:
        hours = ", ".join(
            f"{weekday}={format_opening_hours(ranges)}"
            for weekday, ranges in zip(WEEKDAYS, self._weekday_ranges, strict=True)
        )
        return f"WorkingCalendar({self.timezone}, {hours})"

    def is_working_day(self, day: date) -> bool:
        """True when `day` (a local date) has opening hours and is not a holiday or closed."""
        return bool(self._day_ranges_us(day))

    def closure(self, day: date) -> str | None:
        """Why `day` (a local date its opening hours would open) is closed: the public
        holiday's name, or "a closed date"; None when it is open or has no hours anyway."""
        if not self._weekday_ranges[day.weekday()]:
            return None
        if self._holidays is not None and day in self._holidays:
            return str(self._holidays.get(day))
        return "a closed date" if day in self._extra_closed_dates else None

    def is_working_time(self, instant: datetime) -> bool:
        """True when `instant` falls inside opening hours on a working day."""
        at_us = epoch_microseconds(instant)
        return any(
            opens <= at_us < closes
            for opens, closes in self._day_ranges_us(self._local_date(at_us))
        )

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """float seconds of opening hours on working days between `start` and `end`.

        Raises `ValueError` when `end` is before `start`.
        """
        return (
            self._working_us(epoch_microseconds(start, "start"), epoch_microseconds(end, "end"))
            / 1_000_000
        )

    def after_working_days(self, instant: datetime, working_days: int) -> datetime:
        """The earliest instant after `working_days` working days' worth of opening hours.

        The clock runs only during opening hours: an instant outside them counts
        from the last closing before it (equivalently, from the next opening). A
        day's worth is measured day by day as a share of that day's hours, so an
        instant 7 of 8 hours into Friday maps to 7 of 8 hours into Monday, i.e.
        the same local time when the days' hours match. Returns UTC.
        """
        at_us = epoch_microseconds(instant)
        day = self._local_date(at_us)
        if not self._opens_before(day, at_us):
            day = self._working_day_before(day)
        elapsed_us = sum(
            max(0, min(closes, at_us) - opens) for opens, closes in self._day_ranges_us(day)
        )
        target = self.working_day_after(day, working_days)
        share_us = elapsed_us * self._day_length_us(target) // self._day_length_us(day)
        return utc_instant(self._instant_into_day(target, share_us))

    def closing_after_working_days(self, instant: datetime, working_days: int) -> datetime:
        """Closing time (UTC) of the `working_days`-th working day after `instant`'s local date."""
        day = self._local_date(epoch_microseconds(instant))
        target = self.working_day_after(day, working_days)
        return utc_instant(self._day_ranges_us(target)[-1][1])

    def working_day_after(self, day: date, working_days: int) -> date:
        """The `working_days`-th working day strictly after local date `day`."""
        if working_days < 1:
            raise ValueError(f"working_days must be at least 1, got {working_days}")
        found = 0
        for offset in range(1, _SEARCH_LIMIT_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                found += 1
                if found == working_days:
                    return candidate
        raise ValueError(
            f"fewer than {working_days} working days in the {_SEARCH_LIMIT_DAYS} after {day}"
        )

    def _working_day_before(self, day: date) -> date:
        for offset in range(1, _SEARCH_LIMIT_DAYS + 1):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day in the {_SEARCH_LIMIT_DAYS} days before {day}")

    def _opens_before(self, day: date, at_us: int) -> bool:
        ranges = self._day_ranges_us(day)
        return bool(ranges) and ranges[0][0] < at_us

    def _day_length_us(self, day: date) -> int:
        return sum(closes - opens for opens, closes in self._day_ranges_us(day))

    def _instant_into_day(self, day: date, share_us: int) -> int:
        """The earliest instant on `day` by which `share_us` of its opening hours have passed."""
        remaining_us = share_us
        ranges = self._day_ranges_us(day)
        for opens, closes in ranges:
            if remaining_us <= closes - opens:
                return opens + remaining_us
            remaining_us -= closes - opens
        return ranges[-1][1]

    def _working_us(self, start_us: int, end_us: int) -> int:
        if end_us < start_us:
            raise ValueError("end must not be before start")
        total_us = 0
        day = self._local_date(start_us)
        last_day = self._local_date(end_us)
        while day <= last_day:
            for opens, closes in self._day_ranges_us(day):
                total_us += max(0, min(closes, end_us) - max(opens, start_us))
            day += _ONE_DAY
        return total_us

    def _local_date(self, at_us: int) -> date:
        return utc_instant(at_us).astimezone(self._zone).date()

    def _compute_day_ranges_us(self, day: date) -> tuple[tuple[int, int], ...]:
        """`day`'s opening hours as UTC epoch-microsecond ranges; empty when closed."""
        if day in self._extra_closed_dates or (
            self._holidays is not None and day in self._holidays
        ):
            return ()
        midnight = datetime(day.year, day.month, day.day, tzinfo=self._zone)
        return tuple(
            (self._wall_clock_us(midnight, opens), self._wall_clock_us(midnight, closes))
            for opens, closes in self._weekday_ranges[day.weekday()]
        )

    @staticmethod
    def _wall_clock_us(midnight: datetime, minute: int) -> int:
        # Aware + timedelta is wall-clock arithmetic: the offset is taken at the result.
        return epoch_microseconds(midnight + timedelta(minutes=minute))
