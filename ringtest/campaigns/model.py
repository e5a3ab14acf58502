"""The campaign file schema: one YAML file per campaign, validated with pydantic.

`CampaignFile` is what a file may say (unknown keys refused); `schedules/README.md`
documents every key. Field validators raise `ringtest.config.fields.problem`
errors whose text reads after the key and its value, e.g. window
``'Mon-Fri 17:00-09:00'`` + ``ends before it starts: ...``; `source` turns them
into ``FILE:LINE: ...`` lines.

Time is whole seconds. A window is ``DAYS HH:MM-HH:MM[, HH:MM-HH:MM ...]`` in
the campaign's time zone, e.g. ``Mon-Fri 09:30-12:00, 14:00-16:30``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from ringtest.config import Settings
from ringtest.config.adapters import ring_rule_of
from ringtest.config.fields import PhoneNumber, SipUri, problem
from ringtest.config.models import CalendarSettings
from ringtest.core.calendar import (
    WEEKDAYS,
    OpeningRanges,
    WorkingCalendar,
    format_opening_hours,
    parse_opening_hours,
)
from ringtest.sip.ivr import parse_ivr

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
"""Day names as written in windows, in `date.weekday()` order."""

WINDOW_EXAMPLE = "Mon-Fri 09:30-12:00, 14:00-16:30"
DURATION_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MAX_CONCURRENT_CALLS = 4
"""Calls one daemon places at once at most (one SIP endpoint's call slots)."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_WINDOW = re.compile(r"^(\S+)\s+(.+)$")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DURATION = re.compile(r"^(\d+)\s*([smh])$")
_FREQUENCY = re.compile(r"^(\d+)\s+(?:tests?\s+)?per\s+(day|week)$")


class Window(BaseModel):
    """Days of the week and the local time ranges on them in which tests may start.

    ranges: ascending (start_minute, end_minute) pairs, minutes after local midnight.
    """

    model_config = ConfigDict(frozen=True)

    text: str
    days: tuple[int, ...]
    ranges: OpeningRanges


class Frequency(BaseModel):
    """`tests` ring tests to each target per `per` (a working day, or an ISO week)."""

    model_config = ConfigDict(frozen=True)

    tests: int
    per: Literal["day", "week"]


def _window(text: object) -> Window:
    if isinstance(text, Window):
        return text
    if not isinstance(text, str):
        raise problem(f"is not text: write it like '{WINDOW_EXAMPLE}'")
    match = _WINDOW.match(text.strip())
    if match is None:
        raise problem(f"is not DAYS HH:MM-HH:MM: write it like '{WINDOW_EXAMPLE}'")
    days = _days(match.group(1))
    ranges = tuple(_time_range(part.strip()) for part in match.group(2).split(","))
    for (_, earlier_end), (later_start, _) in zip(ranges, ranges[1:], strict=False):
        if later_start < earlier_end:
            raise problem("has overlapping or unordered time ranges: list them in order, apart")
    return Window(text=text, days=days, ranges=ranges)


def _days(text: str) -> tuple[int, ...]:
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        start, end = _day(first), _day(last or first)
        if end < start:
            raise problem(f"has day range '{part}' backwards: write it like Mon-Fri")
        days.extend(range(start, end + 1))
    if len(set(days)) != len(days):
        raise problem("names a day twice: list each day once")
    return tuple(sorted(days))


def _day(name: str) -> int:
    for index, known in enumerate(DAY_NAMES):
        if name.strip().lower() == known.lower():
            return index
    raise problem(
        f"has unknown day '{name}': use {', '.join(DAY_NAMES)}, ranges like Mon-Fri "
        "or lists like Mon,Wed"
    )


def _time_range(text: str) -> tuple[int, int]:
    match = _RANGE.match(text)
    if match is None:
        raise problem(f"has '{text}', not HH:MM-HH:MM: write it like '{WINDOW_EXAMPLE}'")
    start_hour, start_minute, end_hour, end_minute = map(int, match.groups())
    start, end = start_hour * 60 + start_minute, end_hour * 60 + end_minute
    if start_minute > 59 or end_minute > 59 or start >= 24 * 60 or end > 24 * 60:
        raise problem(f"has '{text}', which is not a time of day: use 00:00 to 24:00")
    if end <= start:
        raise problem("ends before it starts: write the earlier time first, e.g. 09:00-17:00")
    return start, end


def _frequency(value: object) -> Frequency:
    if isinstance(value, Frequency):
        return value
    match = _FREQUENCY.match(str(value).strip().lower())
    if match is None or int(match.group(1)) < 1:
        raise problem("is not N per day or N per week: write it like '3 per week'")
    return Frequency(tests=int(match.group(1)), per=match.group(2))


def _seconds(value: object) -> int:
    """A duration written ``90s``, ``10m`` or ``1h``, as int seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _DURATION.match(str(value).strip().lower())
    if match is None:
        raise problem("is not a duration: write it like 90s, 10m or 1h")
    return int(match.group(1)) * DURATION_UNIT_SECONDS[match.group(2)]


def _quoted_number(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        raise problem(
            "was read by YAML as an integer, losing any + or leading 0: "
            'quote it, e.g. "+441382434001"'
        )
    return value


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise problem("is not a known IANA time zone: use a name like Europe/London") from None
    return name


WindowText = Annotated[
    Window, BeforeValidator(_window), PlainSerializer(lambda window: window.text)
]
FrequencyText = Annotated[
    Frequency,
    BeforeValidator(_frequency),
    PlainSerializer(lambda frequency: f"{frequency.tests} per {frequency.per}"),
]
Seconds = Annotated[int, BeforeValidator(_seconds), Field(ge=0)]
QuotedPhoneNumber = Annotated[PhoneNumber, BeforeValidator(_quoted_number)]
TimeZoneName = Annotated[str, AfterValidator(_timezone)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """One line to ring: by `number` (stored as E.164) or by SIP `uri`, never both.

    department: as reported (default: the target's name).
    caller_ids: the caller IDs the line's staff call out from, for matching call backs.
    headers: SIP headers added to each test's INVITE (e.g. the lab's ``X-Lab-Answer``).
    ivr: the keys that get through the line's menu to a person (``w2 1``: wait 2 s
        after the answer, press 1; `ringtest.sip.ivr`); None: the line is no menu.
    """

    name: str = Field(min_length=1)
    number: QuotedPhoneNumber | None = None
    uri: SipUri | None = None
    department: str = ""
    tags: list[str] = Field(default_factory=list)
    caller_ids: list[QuotedPhoneNumber] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    ivr: str | None = None

    @model_validator(mode="after")
    def _one_address(self) -> Target:
        if (self.uri is None) == (self.number is None):
            said = "both number and uri" if self.uri is not None else "neither number nor uri"
            raise problem(f"has {said}: give exactly one of them", about_value=False)
        return self

    @model_validator(mode="after")
    def _ivr_keys(self) -> Target:
        if self.ivr is not None:
            try:
                parse_ivr(self.ivr)
            except ValueError as error:
                raise problem(f"'{self.name}' ivr {error}", about_value=False) from None
        return self

    @property
    def dial(self) -> str:
        """What the SIP caller dials: the E.164 number or the SIP URI."""
        return self.number or self.uri or ""

    @property
    def department_name(self) -> str:
        return self.department or self.name


class CampaignFile(_Strict):
    """A campaign as written in its YAML file.

    windows: None means the configured opening hours (`[calendar]`).
    timezone: of the windows and dates; None means `calendar.timezone`.
    start / end: first and last local date of the campaign (end None: no end).
    seed: the plan's random seed; None means the campaign's name is the seed.
    min_gap: int seconds, least time between the starts of two tests of one target.
    misfire_grace: int seconds a slot may run late (the daemon was down or busy).
    account: the `[[sip.accounts]]` name to call from; None: the first configured.
    """

    name: str
    targets: list[Target] = Field(min_length=1)
    frequency: FrequencyText
    start: date
    end: date | None = None
    windows: list[WindowText] | None = Field(default=None, min_length=1)
    timezone: TimeZoneName | None = None
    seed: int | None = None
    max_rings: int = Field(default=10, ge=1, le=60)
    callback_share: float = Field(default=0.0, ge=0.0, le=1.0)
    concurrency: int = Field(default=1, ge=1, le=MAX_CONCURRENT_CALLS)
    min_gap: Seconds = 3600
    misfire_grace: Seconds = 600
    account: str | None = None

    @field_validator("name")
    @classmethod
    def _usable_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise problem(
                "is not a usable campaign name: use lower-case letters, digits, - and _, "
                "e.g. council-weekly"
            )
        return name

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: date | None, info) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise problem(f"is before start {start.isoformat()}: end on or after the start date")
        return end


class CampaignDefinition(BaseModel):
    """A campaign file resolved against the settings: everything its plan depends on.

    Stored as JSON in the campaign's row, so the daemon and `status` need only the
    database. windows: the file's, or the opening hours. timezone: of the windows.
    seconds_per_ring: float, the configured ring cadence. account: the SIP account.
    calendar: the `[calendar]` whose working days (bank holidays skipped) tests run on.
    """

    model_config = ConfigDict(frozen=True)

    campaign: CampaignFile
    source_path: str
    sha256: str
    timezone: str
    windows: list[WindowText]
    seconds_per_ring: float
    account: str
    calendar: CalendarSettings

    def to_json(self) -> str:
        """The definition as stored in `Campaign.definition`."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> CampaignDefinition:
        """The definition stored by `to_json`."""
        return cls.model_validate_json(text)

    def working_calendar(self) -> WorkingCalendar:
        """The service's working days (opening hours, bank holidays, closed dates)."""
        calendar = self.calendar
        return WorkingCalendar(
            timezone=calendar.timezone,
            opening_hours=calendar.opening_hours(),
            country=calendar.country,
            subdivision=calendar.subdivision,
            extra_closed_dates=calendar.extra_closed_dates,
        )


def campaign_from_file(
    campaign: CampaignFile, settings: Settings, *, source_path: str, sha256: str
) -> CampaignDefinition:
    """`campaign` with its defaults taken from `settings` (windows, time zone, account)."""
    accounts = settings.sip.accounts
    return CampaignDefinition(
        campaign=campaign,
        source_path=source_path,
        sha256=sha256,
        timezone=campaign.timezone or settings.calendar.timezone,
        windows=campaign.windows or opening_hours_windows(settings.calendar.opening_hours()),
        seconds_per_ring=ring_rule_of(settings).seconds_per_ring,
        account=campaign.account or (accounts[0].name if accounts else ""),
        calendar=settings.calendar,
    )


def opening_hours_windows(opening_hours: dict[str, str]) -> list[Window]:
    """Opening hours (``{"mon": "09:00-17:00", ...}``) as windows, one per open weekday."""
    windows = []
    for day, key in enumerate(WEEKDAYS):
        ranges = parse_opening_hours(opening_hours[key])
        if ranges:
            text = f"{DAY_NAMES[day]} {format_opening_hours(ranges)}"
            windows.append(Window(text=text, days=(day,), ranges=ranges))
    return windows
