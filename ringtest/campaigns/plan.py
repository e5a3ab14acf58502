"""The planner: a campaign, its working calendar and an ISO week in, the exact calls out.

Pure: no clock, no I/O. The same definition, calendar and week always give the
same plan, to the second, because every random draw comes from a
`random.Random` seeded with text naming the campaign's seed, the target and the
period (Python seeds from text with SHA-512, the same on every machine and run).

How a period's tests are placed. A period is one working day (``N per day``) or
the working days of one ISO week (``N per week``), in the campaign's time zone,
within its start and end dates. A test may start in a window at any second that
leaves room for the whole call before the window closes: the window minus one
call's length (`call_seconds`: ``max_rings`` rings plus `SETUP_SECONDS`, longer
for a menu navigated to a person). Those
usable stretches are laid end to end; N starts are drawn uniformly on that line
with every two of them at least the gap apart (`gap_seconds`: ``min_gap``, and
never less than one call, so tests to one target never overlap). Laying the
stretches end to end only shortens the time between them, so the real gaps are
at least as long. Days closed by the calendar (weekends, bank holidays of the
configured country and subdivision, extra closed dates) have no usable time. A
week cut short by the campaign's start or end gets its share of N, by usable time.
A week whose closed days leave too little window for N tests the gap apart gets
as many as fit; `shortfall` names the closed days and the tests missing.

Targets are planned in file order. A target's draw is redrawn (up to
`MAX_DRAWS` times, deterministically) while it would put more than
``concurrency`` of the campaign's calls in progress at once. Finally
``round(callback_share x calls in the week)`` of the week's calls, drawn with
their own seed, ask for a call back.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ringtest.campaigns.model import CampaignDefinition, Target
from ringtest.core.calendar import WorkingCalendar
from ringtest.core.errors import CampaignError
from ringtest.sip.ivr import parse_ivr
from ringtest.sip.recording import GREETING_RECORD_SECONDS

SETUP_SECONDS = 32
"""seconds a call may take to start ringing, on top of its rings (as `ring_tests.SETUP_SECONDS`)."""

MAX_DRAWS = 200
"""Draws per target and period before the concurrency limit is declared unmeetable."""

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")

Segment = tuple[int, int]
"""A usable stretch: (first start, last start), UTC epoch seconds, both allowed."""


@dataclass(frozen=True, slots=True, order=True)
class PlannedCall:
    """One ring test the campaign will place: at `planned_at` (UTC) to `target` (its name)."""

    planned_at: datetime
    target: str
    campaign: str
    dial: str
    department: str
    callback: bool = False


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A week whose windows, cut short by closed days, hold fewer tests than asked.

    wanted / fitted: the week's tests (all targets) the frequency asks for / that fit
    the gap apart and the concurrency. closed: the week's days the campaign's windows
    would use that the calendar closes, with why (a bank holiday's name).
    """

    campaign: str
    monday: date
    wanted: int
    fitted: int
    closed: tuple[tuple[date, str], ...]

    def describe(self) -> str:
        """One line naming the campaign, the week, the closed days and the shortfall."""
        days = ", ".join(f"{reason} ({day:%a %d %b})" for day, reason in self.closed)
        why = f"{days} closed" if days else "its windows are too short"
        return (
            f"campaign '{self.campaign}', week {week_label(self.monday)}: {why}, so "
            f"{self.fitted} of {self.wanted} tests fit; {self.wanted - self.fitted} not planned"
        )


@dataclass(frozen=True, slots=True)
class _Period:
    """Open days planned together, the tests per target asked for and those that fit the
    gap apart."""

    days: list[date]
    wanted: int
    fitted: int


def parse_week(text: str) -> date:
    """The Monday of ISO week `text` (``2026-W48``); `CampaignError` when it is not one."""
    match = _ISO_WEEK.match(text.strip())
    try:
        if match is None:
            raise ValueError
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise CampaignError(f"week '{text}' is not an ISO week: write it like 2026-W48") from None


def week_label(monday: date) -> str:
    """``2026-W48`` for the Monday of that week."""
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(instant: datetime, timezone: str) -> date:
    """The Monday of the ISO week `instant` falls in, in `timezone`."""
    local = instant.astimezone(ZoneInfo(timezone)).date()
    return local - timedelta(days=local.weekday())


def call_seconds(definition: CampaignDefinition) -> int:
    """int seconds one call may last: ``max_rings`` rings plus `SETUP_SECONDS`, plus,
    when a target is a menu (`Target.ivr`), the longest navigation: its last key,
    ``max_rings`` rings after it and the recording of who answered."""
    campaign = definition.campaign
    ring_limit_seconds = campaign.max_rings * definition.seconds_per_ring
    menu_seconds = max(
        (
            parse_ivr(target.ivr).last_press_seconds + ring_limit_seconds + GREETING_RECORD_SECONDS
            for target in campaign.targets
            if target.ivr is not None
        ),
        default=0.0,
    )
    return math.ceil(ring_limit_seconds + menu_seconds) + SETUP_SECONDS


def gap_seconds(definition: CampaignDefinition) -> int:
    """int seconds at least between the starts of two tests of one target."""
    return max(definition.campaign.min_gap, call_seconds(definition))


def usable_seconds(definition: CampaignDefinition, weekday: int) -> int:
    """int seconds of `weekday`'s windows in which a test may start (no holidays counted)."""
    call = call_seconds(definition)
    return sum(
        max(0, (end - start) * 60 - call)
        for window in definition.windows
        if weekday in window.days
        for start, end in window.ranges
    )


def fits(tests: int, usable: int, gap: int) -> bool:
    """True when `tests` starts `gap` seconds apart fit in `usable` seconds of windows."""
    return usable >= 0 and (tests - 1) * gap <= usable


def plan_week(
    definition: CampaignDefinition, calendar: WorkingCalendar, monday: date
) -> list[PlannedCall]:
    """The campaign's calls in the ISO week starting on `monday`, by time then target.

    A week whose closed days leave too little window gets as many tests as fit
    (`shortfall` says how many are missing and why).
    """
    return _plan(definition, calendar, monday)[0]


def shortfall(
    definition: CampaignDefinition, calendar: WorkingCalendar, monday: date
) -> Shortfall | None:
    """How many of the week's tests do not fit, and the closed days that cut it short;
    None when every test fits."""
    return _plan(definition, calendar, monday)[1]


def _plan(
    definition: CampaignDefinition, calendar: WorkingCalendar, monday: date
) -> tuple[list[PlannedCall], Shortfall | None]:
    periods = _periods(definition, calendar, monday)
    placed: list[tuple[int, str]] = []
    calls: list[PlannedCall] = []
    for target in definition.campaign.targets:
        for period in periods:
            starts = (
                _draw_target(definition, target, period.days, period.fitted, placed)
                if period.fitted
                else []
            )
            placed.extend((start, target.name) for start in starts)
            calls.extend(_call(definition, target, start) for start in starts)
    calls.sort()
    wanted = len(definition.campaign.targets) * sum(period.wanted for period in periods)
    if len(calls) == wanted:
        return _with_callbacks(definition, monday, calls), None
    closed = tuple(
        (day, reason)
        for day in (monday + timedelta(days=offset) for offset in range(7))
        if _within_dates(definition, day)
        and _segments(definition, day)
        and (reason := calendar.closure(day)) is not None
    )
    short = Shortfall(definition.campaign.name, monday, wanted, len(calls), closed)
    return _with_callbacks(definition, monday, calls), short


def plan_between(
    definition: CampaignDefinition, calendar: WorkingCalendar, since: datetime, until: datetime
) -> list[PlannedCall]:
    """The campaign's calls planned in [since, until), week by week."""
    monday = monday_of(since, definition.timezone)
    last = monday_of(until, definition.timezone)
    calls: list[PlannedCall] = []
    while monday <= last:
        week = plan_week(definition, calendar, monday)
        calls.extend(call for call in week if since <= call.planned_at < until)
        monday += timedelta(days=7)
    return calls


def _periods(
    definition: CampaignDefinition, calendar: WorkingCalendar, monday: date
) -> list[_Period]:
    """The week's periods: each open day (``per day``), or its open days together."""
    campaign = definition.campaign
    days = [monday + timedelta(days=offset) for offset in range(7)]
    in_dates = [day for day in days if _within_dates(definition, day)]
    open_days = [day for day in in_dates if calendar.is_working_day(day)]
    if campaign.frequency.per == "day":
        asked = [([day], campaign.frequency.tests) for day in open_days]
    else:
        working = [day for day in days if calendar.is_working_day(day)]
        full = sum(_usable(_segments(definition, day)) for day in working)
        inside = sum(_usable(_segments(definition, day)) for day in open_days)
        tests = (
            campaign.frequency.tests
            if len(in_dates) == 7
            else _share(campaign.frequency.tests, inside, full)
        )
        asked = [(open_days, tests)] if open_days and tests else []
    return [
        _Period(period_days, tests, min(tests, _capacity(definition, period_days)))
        for period_days, tests in asked
    ]


def _capacity(definition: CampaignDefinition, days: Sequence[date]) -> int:
    """Most tests to one target that fit in `days`' windows `gap_seconds` apart."""
    segments = [segment for day in days for segment in _segments(definition, day)]
    if not segments:
        return 0
    return _usable(segments) // gap_seconds(definition) + 1


def _within_dates(definition: CampaignDefinition, day: date) -> bool:
    campaign = definition.campaign
    return campaign.start <= day and (campaign.end is None or day <= campaign.end)


def _share(tests: int, inside: int, full: int) -> int:
    """The share of a week's `tests` that a week cut short by the start or end date gets:
    in proportion to its usable seconds `inside` the dates, of the `full` week's."""
    if full == 0:
        return 0
    return math.floor(tests * inside / full + 0.5)


def _segments(definition: CampaignDefinition, day: date) -> list[Segment]:
    """`day`'s usable stretches in time order, as UTC epoch seconds."""
    zone = ZoneInfo(definition.timezone)
    midnight = datetime.combine(day, time(0), zone)
    call = call_seconds(definition)
    segments = []
    for window in definition.windows:
        if day.weekday() not in window.days:
            continue
        for start, end in window.ranges:
            # Aware + timedelta is wall-clock arithmetic: the offset is taken at the result.
            first = int((midnight + timedelta(minutes=start)).timestamp())
            last = int((midnight + timedelta(minutes=end)).timestamp()) - call
            if last >= first:
                segments.append((first, last))
    return sorted(segments)


def _usable(segments: Iterable[Segment]) -> int:
    return sum(last - first for first, last in segments)


def _draw_target(
    definition: CampaignDefinition,
    target: Target,
    days: Sequence[date],
    tests: int,
    placed: Sequence[tuple[int, str]],
) -> list[int]:
    """Up to `tests` start times for `target` in `days`, the gap apart (`tests` fit:
    `_capacity`) and within the concurrency: one test fewer each time `MAX_DRAWS`
    draws all overlap the targets planned before it (a week cut short by closed days)."""
    campaign = definition.campaign
    segments = [segment for day in days for segment in _segments(definition, day)]
    gap = gap_seconds(definition)
    seed = campaign.seed if campaign.seed is not None else campaign.name
    rng = random.Random(f"{seed}|{campaign.name}|{target.name}|{days[0].isoformat()}")
    busy = [start for start, _ in placed]
    for count in range(tests, 0, -1):
        spare = _usable(segments) - (count - 1) * gap
        for _ in range(MAX_DRAWS):
            offsets = sorted(rng.randint(0, spare) for _ in range(count))
            starts = [_at(segments, offset + index * gap) for index, offset in enumerate(offsets)]
            if _most_at_once(busy + starts, call_seconds(definition)) <= campaign.concurrency:
                return starts
    return []


def _at(segments: Sequence[Segment], position: int) -> int:
    """The instant `position` seconds along the usable stretches laid end to end."""
    for first, last in segments:
        if position <= last - first:
            return first + position
        position -= last - first
    return segments[-1][1]


def _most_at_once(starts: Sequence[int], length: int) -> int:
    """Most calls of `length` seconds in progress at once, for calls starting at `starts`."""
    edges = sorted([(start, 1) for start in starts] + [(start + length, -1) for start in starts])
    most = current = 0
    for _, change in edges:
        current += change
        most = max(most, current)
    return most


def _call(definition: CampaignDefinition, target: Target, start: int) -> PlannedCall:
    return PlannedCall(
        planned_at=datetime.fromtimestamp(start, UTC),
        target=target.name,
        campaign=definition.campaign.name,
        dial=target.dial,
        department=target.department_name,
    )


def _with_callbacks(
    definition: CampaignDefinition, monday: date, calls: list[PlannedCall]
) -> list[PlannedCall]:
    campaign = definition.campaign
    wanted = math.floor(campaign.callback_share * len(calls) + 0.5)
    seed = campaign.seed if campaign.seed is not None else campaign.name
    rng = random.Random(f"{seed}|{campaign.name}|callbacks|{monday.isoformat()}")
    chosen = set(rng.sample(range(len(calls)), wanted))
    return [
        replace(call, callback=True) if index in chosen else call
        for index, call in enumerate(calls)
    ]
