"""The telephone standards: how many rings a wait was, and when a callback is due.

This is the one place that answers "was this call answered within the
standard?", "when must this missed call be returned by?" and "how much working
time passed?". Everything here is pure: instants are passed in as
timezone-aware `datetime`s (naive ones are a `ValueError`) and no clock is read.

Rings. A ring is one cycle of the ringing cadence the caller hears, which
differs by country (`RING_CADENCE_SECONDS`: the UK's double ring repeats every
3 s, the US ring every 6 s). `RingRule` is the one definition of rings, used by
the AMI tracker, the SIP ring-test caller and the CDR import alike: a wait of
`ring_seconds` is ``ceil(ring_seconds / seconds_per_ring)`` whole rings, the ring
in progress when someone answered counting. The division is done in integer
microseconds so that 21.0 s of GB ringing is exactly 7 rings, not
7.000000000000001, while 21.000001 s is 8.

Callbacks. A missed call must be returned within `callback_within_working_days`
working days, by one of two `CallbackRule`s (see there). Working time comes
from the service's `WorkingCalendar`.

Metrics. `MetricRules` carries what the compliance figures measure against:
the rings standard, the short-abandon threshold and the zone whose local days
calls belong to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import phonenumbers

from ringtest.core.calendar import WorkingCalendar

_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE

RING_CADENCE_SECONDS: Mapping[str, float] = MappingProxyType(
    {
        "DE": 5.0,
        "ES": 4.5,
        "FR": 5.0,
        "GB": 3.0,
        "US": 6.0,
    }
)
"""float seconds per ring (one full on/off cycle of ringing tone), by country code."""

GREETING_PHRASES = (
    "hello",
    "good morning",
    "good afternoon",
    "good evening",
    "thank you for calling",
    "welcome",
)
"""What counts as greeting the caller courteously, unless `standards.greeting_phrases`
lists others; the greeting audit listens for them. Not "hi": spotted as a keyphrase,
its two sounds are heard in any "I" ("how can I help")."""

_MICROSECONDS_PER_SECOND = 1_000_000


@dataclass(frozen=True, slots=True)
class RingRule:
    """How many rings a wait was, and whether that is within the rings standard.

    seconds_per_ring: float, seconds per ring of the caller's ringing cadence.
    answer_within_rings: int, the most rings a caller may hear before a person answers.
    """

    seconds_per_ring: float = RING_CADENCE_SECONDS["GB"]
    answer_within_rings: int = 7

    def __post_init__(self) -> None:
        if not round(self.seconds_per_ring * _MICROSECONDS_PER_SECOND) >= 1:
            raise ValueError(
                f"seconds_per_ring must be positive, got {self.seconds_per_ring}: "
                "use 0.000001 or more"
            )
        if self.answer_within_rings < 1:
            raise ValueError(
                f"answer_within_rings must be 1 or more, got {self.answer_within_rings}"
            )

    def rings(self, ring_seconds: float) -> int:
        """Whole rings heard in `ring_seconds` (float seconds of ringing): 0 for 0, else
        ``ceil(ring_seconds / seconds_per_ring)`` to the microsecond."""
        if math.isnan(ring_seconds) or ring_seconds < 0:
            raise ValueError(f"ring_seconds must be 0 or more, got {ring_seconds}")
        ring_microseconds = round(ring_seconds * _MICROSECONDS_PER_SECOND)
        microseconds_per_ring = round(self.seconds_per_ring * _MICROSECONDS_PER_SECOND)
        return -(-ring_microseconds // microseconds_per_ring)

    def within(self, ring_seconds: float) -> bool:
        """True when `ring_seconds` of ringing is at most `answer_within_rings` rings."""
        return self.rings(ring_seconds) <= self.answer_within_rings

    def uncertain_between(self, error_seconds: float) -> tuple[float, float]:
        """The open interval (low, high) of measured ring seconds whose verdict an error of
        less than `error_seconds` (float seconds, either way) could turn: a measurement
        strictly inside it may be within the standard or not. It is centred on the
        standard's last instant, ``answer_within_rings * seconds_per_ring``."""
        if not error_seconds >= 0:
            raise ValueError(f"error_seconds must be 0 or more, got {error_seconds}")
        boundary = self.answer_within_rings * self.seconds_per_ring
        return boundary - error_seconds, boundary + error_seconds

    def verdict_uncertain(self, ring_seconds: float, error_seconds: float) -> bool:
        """True when `ring_seconds`, measured to within less than `error_seconds` either way,
        could be on either side of the standard (`uncertain_between`)."""
        low, high = self.uncertain_between(error_seconds)
        return low < ring_seconds < high


class CallbackRule(StrEnum):
    """When a missed call's callback is due, counted in working days.

    WORKING_HOURS: after N working days' worth of opening hours from the miss;
        for a call missed during opening hours, the same local time on the Nth
        next working day (what councils call "within 24 hours, working days
        only"); for a call missed outside them, the clock starts at the next
        opening, so the deadline is the closing time of the Nth working day.
    END_OF_NEXT_WORKING_DAY: closing time of the Nth working day after the
        local date of the miss.
    """

    WORKING_HOURS = "working_hours"
    END_OF_NEXT_WORKING_DAY = "end_of_next_working_day"


def normalise_number(number: str, region: str) -> str:
    """`number` in E.164 (``+442079460000``), read as a national number of `region` if it
    has no ``+`` (phonenumbers also spots a country code written without one).

    Checks length, not allocation, so drama and lab ranges (01632 960xxx) pass.
    Raises `ValueError` when it is not a whole phone number. Answers are remembered
    (`NUMBERS_REMEMBERED`): parsing is the dearest step of reading a call, and calls
    repeat their callers, lines and extensions.
    """
    e164, problem = _e164_or_problem(number, region)
    if e164 is None:
        raise ValueError(problem)
    return e164


NUMBERS_REMEMBERED = 65_536
"""Distinct (number, region) answers `normalise_number` keeps, least recently used
forgotten first: a few MB at most."""


@lru_cache(maxsize=NUMBERS_REMEMBERED)
def _e164_or_problem(number: str, region: str) -> tuple[str | None, str]:
    """(`number` in E.164, "") or (None, why it is not a whole phone number)."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as error:
        return None, str(error)
    if phonenumbers.is_possible_number_with_reason(parsed) != _POSSIBLE:
        return None, f"{number!r} is not a whole phone number"
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), ""


class Standards:
    """The answering and callback standards of one service.

    ring_rule: the ring cadence and the rings standard, see `RingRule`.
    callback_within_working_days: int, working days allowed to return a missed call.
    callback_rule: how those working days are counted, see `CallbackRule`.
    calendar: the service's working time; defaults to Mon-Fri 09:00-17:00 in
        Europe/London with GB bank holidays.
    test_caller_ids: caller IDs our own ring tests present (any format of
        `default_region`); calls from them are kept out of live figures.
    """

    def __init__(
        self,
        *,
        ring_rule: RingRule | None = None,
        callback_within_working_days: int = 1,
        callback_rule: CallbackRule = CallbackRule.WORKING_HOURS,
        calendar: WorkingCalendar | None = None,
        test_caller_ids: Iterable[str] = (),
        default_region: str = "GB",
    ) -> None:
        days = callback_within_working_days
        if days < 1:
            raise ValueError(f"callback_within_working_days must be 1 or more, got {days}")
        self.ring_rule = ring_rule if ring_rule is not None else RingRule()
        self.callback_within_working_days = callback_within_working_days
        self.callback_rule = CallbackRule(callback_rule)
        self.calendar = calendar if calendar is not None else WorkingCalendar()
        self.default_region = default_region
        self.test_caller_ids = frozenset(
            normalise_number(caller, default_region) for caller in test_caller_ids
        )

    def __repr__(self) -> str:
        return (
            f"Standards(ring_rule={self.ring_rule!r}, "
            f"callback_within_working_days={self.callback_within_working_days}, "
            f"callback_rule={self.callback_rule.value}, calendar={self.calendar!r})"
        )

    def callback_deadline(self, missed_at: datetime) -> datetime:
        """When (UTC) a call missed at `missed_at` must have been returned by."""
        deadline_by_rule = {
            CallbackRule.WORKING_HOURS: self.calendar.after_working_days,
            CallbackRule.END_OF_NEXT_WORKING_DAY: self.calendar.closing_after_working_days,
        }
        return deadline_by_rule[self.callback_rule](missed_at, self.callback_within_working_days)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """float seconds of opening hours on working days from `start` to `end`."""
        return self.calendar.working_seconds(start, end)

    def is_working_time(self, instant: datetime) -> bool:
        """True when `instant` is inside opening hours on a working day."""
        return self.calendar.is_working_time(instant)

    def is_test_caller(self, caller: str) -> bool:
        """True when `caller` (a caller ID in any format) is one of our ring-test caller IDs.

        A caller ID that is not a phone number (``anonymous``, an extension) is not.
        """
        try:
            return normalise_number(caller, self.default_region) in self.test_caller_ids
        except ValueError:
            return False


@dataclass(frozen=True)
class MetricRules:
    """What the metrics measure against.

    answer_within_rings: int, the rings standard T.
    seconds_per_ring: float, seconds per ring of the ringing cadence (`RingRule`).
    short_abandon_seconds: float, ringing after which a caller's hang-up counts
        against the inclusive rate.
    timezone: IANA zone whose local days, weeks and months calls belong to.
    """

    answer_within_rings: int = 7
    short_abandon_seconds: float = 5.0
    timezone: str = "Europe/London"
    seconds_per_ring: float = RING_CADENCE_SECONDS["GB"]

    @property
    def ring_rule(self) -> RingRule:
        """The rings standard as a `RingRule`, the one definition of rings."""
        return RingRule(self.seconds_per_ring, self.answer_within_rings)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
