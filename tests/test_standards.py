"""The standards, as the councils write them: rings to answer and callback deadlines.

Expected instants are worked out by hand from the calendar: November is GMT
(UTC+0); BST (UTC+1) starts on Sunday 29 March 2026 and ends on Sunday
25 October 2026. St Andrew's Day, Monday 30 November 2026, is a bank holiday in
Scotland and a working day in England.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ringtest.core.calendar import WorkingCalendar, parse_opening_hours
from ringtest.core.standards import (
    RING_CADENCE_SECONDS,
    CallbackRule,
    RingRule,
    Standards,
    normalise_number,
)

SCOTLAND = WorkingCalendar(country="GB", subdivision="SCT")
ENGLAND = WorkingCalendar(country="GB", subdivision="ENG")
OPEN_ROUND_THE_CLOCK_ON_SUNDAY = WorkingCalendar(opening_hours={"sun": "00:00-24:00"})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def hours(count: float) -> float:
    return count * 3600.0


# Rings


def test_the_default_rule_is_seven_gb_rings() -> None:
    assert Standards().ring_rule == RingRule(seconds_per_ring=3.0, answer_within_rings=7)


def test_twenty_point_nine_seconds_is_within_seven_gb_rings() -> None:
    rule = RingRule()
    assert rule.rings(20.9) == 7
    assert rule.within(20.9)


def test_twenty_one_seconds_is_exactly_seven_gb_rings() -> None:
    rule = RingRule()
    assert rule.rings(21.0) == 7
    assert rule.within(21.0)


def test_twenty_one_point_one_seconds_breaches_seven_gb_rings() -> None:
    rule = RingRule()
    assert rule.rings(21.1) == 8
    assert not rule.within(21.1)


def test_no_ringing_is_no_rings() -> None:
    assert RingRule().rings(0.0) == 0


def test_the_ring_in_progress_when_answered_counts() -> None:
    assert RingRule().rings(0.1) == 1
    assert RingRule().rings(3.000001) == 2


def test_float_products_of_the_cadence_are_whole_rings() -> None:
    rule = RingRule(seconds_per_ring=0.1)
    assert rule.rings(0.1 * 3) == 3
    assert rule.rings(0.7) == 7


@pytest.mark.parametrize(
    ("country", "seven_rings_seconds"),
    [("US", 42.0), ("DE", 35.0), ("FR", 35.0), ("ES", 31.5), ("GB", 21.0)],
)
def test_seven_rings_last_seven_cadences_of_the_country(
    country: str, seven_rings_seconds: float
) -> None:
    rule = RingRule(seconds_per_ring=RING_CADENCE_SECONDS[country])
    assert rule.within(seven_rings_seconds)
    assert not rule.within(seven_rings_seconds + 0.1)


def test_ring_cadences_are_the_published_ones() -> None:
    assert dict(RING_CADENCE_SECONDS) == {"DE": 5.0, "ES": 4.5, "FR": 5.0, "GB": 3.0, "US": 6.0}


def test_a_five_ring_standard_is_stricter() -> None:
    rule = RingRule(answer_within_rings=5)
    assert rule.within(15.0)
    assert not rule.within(15.1)


def test_a_remembered_number_answers_as_the_first_time_refusals_too() -> None:
    """`normalise_number` remembers its answers: the second answer is the first's."""
    for _ in range(2):
        assert normalise_number("01632 960001", "GB") == "+441632960001"
        with pytest.raises(ValueError, match="'2001' is not a whole phone number"):
            normalise_number("2001", "GB")
        with pytest.raises(ValueError, match="not seem to be a phone number"):
            normalise_number("anonymous", "GB")


@pytest.mark.parametrize(
    ("ring_seconds", "uncertain"),
    [(19.0, False), (20.0, False), (20.5, True), (21.0, True), (21.9, True), (22.0, False)],
)
def test_whole_second_ring_times_strictly_within_a_second_of_the_last_ring_are_uncertain(
    ring_seconds: float, uncertain: bool
) -> None:
    """GB ringing, 7 rings: the standard's last instant is 21 s."""
    assert RingRule(3.0, 7).uncertain_between(1.0) == (20.0, 22.0)
    assert RingRule(3.0, 7).verdict_uncertain(ring_seconds, 1.0) is uncertain
    assert RingRule(5.0, 5).uncertain_between(0.5) == (24.5, 25.5)


def test_negative_ring_seconds_are_refused() -> None:
    with pytest.raises(ValueError, match="ring_seconds must be 0 or more"):
        RingRule().rings(-1.0)


# Working time


def test_working_time_skips_the_weekend() -> None:
    friday_4pm, monday_10am = utc(2026, 11, 20, 16), utc(2026, 11, 23, 10)
    assert Standards().working_seconds(friday_4pm, monday_10am) == hours(2)


def test_st_andrews_day_is_closed_in_scotland_and_open_in_england() -> None:
    friday_4pm, tuesday_10am = utc(2026, 11, 27, 16), utc(2026, 12, 1, 10)
    assert SCOTLAND.working_seconds(friday_4pm, tuesday_10am) == hours(2)
    assert ENGLAND.working_seconds(friday_4pm, tuesday_10am) == hours(10)


def test_opening_hours_stay_local_across_the_spring_clock_change() -> None:
    friday_9am_gmt = utc(2026, 3, 27, 9)
    monday_5pm_bst = utc(2026, 3, 30, 16)
    assert Standards().working_seconds(friday_9am_gmt, monday_5pm_bst) == hours(16)
    assert Standards().working_seconds(utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)) == hours(40)


def test_a_round_the_clock_day_is_23_hours_when_the_clocks_go_forward() -> None:
    saturday, monday = utc(2026, 3, 28), utc(2026, 3, 30)
    assert OPEN_ROUND_THE_CLOCK_ON_SUNDAY.working_seconds(saturday, monday) == hours(23)


def test_a_round_the_clock_day_is_25_hours_when_the_clocks_go_back() -> None:
    saturday, monday = utc(2026, 10, 24), utc(2026, 10, 26)
    assert OPEN_ROUND_THE_CLOCK_ON_SUNDAY.working_seconds(saturday, monday) == hours(25)


def test_working_time_is_opening_hours_in_local_time() -> None:
    standards = Standards()
    assert standards.is_working_time(utc(2026, 11, 23, 9))
    assert not standards.is_working_time(utc(2026, 11, 23, 8, 59))
    assert not standards.is_working_time(utc(2026, 11, 23, 17))
    assert not standards.is_working_time(utc(2026, 11, 21, 12))
    assert standards.is_working_time(utc(2026, 6, 1, 8, 30))
    assert not standards.is_working_time(utc(2026, 6, 1, 16, 30))


def test_a_lunch_closure_is_not_working_time() -> None:
    calendar = WorkingCalendar(opening_hours={"mon": "09:00-12:30, 13:30-17:00"})
    assert not calendar.is_working_time(utc(2026, 11, 23, 13))
    assert calendar.working_seconds(utc(2026, 11, 23), utc(2026, 11, 24)) == hours(7)


def test_extra_closed_dates_are_not_working_days() -> None:
    calendar = WorkingCalendar(extra_closed_dates=[date(2026, 11, 23)])
    assert not calendar.is_working_day(date(2026, 11, 23))
    assert calendar.working_seconds(utc(2026, 11, 23), utc(2026, 11, 24)) == 0.0


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        Standards().working_seconds(datetime(2026, 11, 23, 9), utc(2026, 11, 23, 10))
    with pytest.raises(ValueError, match="instant must be a timezone-aware datetime"):
        Standards().callback_deadline(datetime(2026, 11, 23, 9))


def test_working_time_backwards_is_refused() -> None:
    with pytest.raises(ValueError, match="end must not be before start"):
        Standards().working_seconds(utc(2026, 11, 23, 10), utc(2026, 11, 23, 9))


def test_opening_hours_that_end_before_they_start_are_refused() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_opening_hours("17:00-09:00")


def test_a_calendar_closed_every_day_is_refused() -> None:
    closed = {day: "closed" for day in ("mon", "tue", "wed", "thu", "fri")}
    with pytest.raises(ValueError, match="closed on every day of the week"):
        WorkingCalendar(opening_hours=closed)


# Callback deadlines


WORKING_HOURS = Standards(callback_rule=CallbackRule.WORKING_HOURS)
END_OF_NEXT_WORKING_DAY = Standards(callback_rule=CallbackRule.END_OF_NEXT_WORKING_DAY)


@pytest.mark.parametrize(
    ("missed_at", "working_hours_deadline", "end_of_next_working_day_deadline"),
    [
        pytest.param(
            utc(2026, 11, 20, 16),
            utc(2026, 11, 23, 16),
            utc(2026, 11, 23, 17),
            id="friday-4pm",
        ),
        pytest.param(
            utc(2026, 11, 20, 17),
            utc(2026, 11, 23, 17),
            utc(2026, 11, 23, 17),
            id="friday-at-closing",
        ),
        pytest.param(
            utc(2026, 11, 21, 11),
            utc(2026, 11, 23, 17),
            utc(2026, 11, 23, 17),
            id="saturday",
        ),
        pytest.param(
            utc(2026, 11, 23, 7),
            utc(2026, 11, 23, 17),
            utc(2026, 11, 24, 17),
            id="monday-before-opening",
        ),
        pytest.param(
            utc(2026, 11, 23, 9, 30),
            utc(2026, 11, 24, 9, 30),
            utc(2026, 11, 24, 17),
            id="monday-morning",
        ),
    ],
)
def test_callback_within_one_working_day(
    missed_at: datetime,
    working_hours_deadline: datetime,
    end_of_next_working_day_deadline: datetime,
) -> None:
    assert WORKING_HOURS.callback_deadline(missed_at) == working_hours_deadline
    assert END_OF_NEXT_WORKING_DAY.callback_deadline(missed_at) == end_of_next_working_day_deadline


def test_callback_clock_starts_at_next_opening_for_a_call_missed_outside_hours() -> None:
    saturday = utc(2026, 11, 21, 11)
    deadline = WORKING_HOURS.callback_deadline(saturday)
    assert WORKING_HOURS.working_seconds(saturday, utc(2026, 11, 23, 10)) == hours(1)
    assert WORKING_HOURS.working_seconds(saturday, deadline) == hours(8)


def test_callback_deadline_is_utc() -> None:
    deadline = WORKING_HOURS.callback_deadline(utc(2026, 6, 5, 12))
    assert deadline.utcoffset() == timedelta(0)
    assert deadline == utc(2026, 6, 8, 12)


def test_callback_missed_friday_before_st_andrews_day_is_due_tuesday_in_scotland() -> None:
    friday_4pm = utc(2026, 11, 27, 16)
    scottish = Standards(calendar=SCOTLAND)
    assert scottish.callback_deadline(friday_4pm) == utc(2026, 12, 1, 16)
    assert Standards(calendar=ENGLAND).callback_deadline(friday_4pm) == utc(2026, 11, 30, 16)
    scottish_end_of_day = Standards(
        calendar=SCOTLAND, callback_rule=CallbackRule.END_OF_NEXT_WORKING_DAY
    )
    assert scottish_end_of_day.callback_deadline(friday_4pm) == utc(2026, 12, 1, 17)


def test_callback_across_the_clock_change_is_due_at_the_same_local_time() -> None:
    friday_4pm_gmt = utc(2026, 3, 27, 16)
    monday_4pm_bst = utc(2026, 3, 30, 15)
    assert WORKING_HOURS.callback_deadline(friday_4pm_gmt) == monday_4pm_bst


def test_callback_within_two_working_days() -> None:
    standards = Standards(callback_within_working_days=2)
    assert standards.callback_deadline(utc(2026, 11, 19, 10)) == utc(2026, 11, 23, 10)


def test_callback_skips_christmas_and_extra_closed_days() -> None:
    standards = Standards(calendar=WorkingCalendar(extra_closed_dates=[date(2026, 12, 24)]))
    assert standards.callback_deadline(utc(2026, 12, 23, 16)) == utc(2026, 12, 29, 16)


def test_a_short_friday_carries_its_share_of_the_day_to_monday() -> None:
    calendar = WorkingCalendar(opening_hours={"fri": "09:00-13:00"})
    halfway_through_friday = utc(2026, 11, 20, 11)
    halfway_through_monday = utc(2026, 11, 23, 13)
    assert Standards(calendar=calendar).callback_deadline(halfway_through_friday) == (
        halfway_through_monday
    )


# Test callers


def test_our_own_ring_tests_are_recognised_in_any_format() -> None:
    standards = Standards(test_caller_ids=["+442079460000"])
    assert standards.is_test_caller("02079460000")
    assert standards.is_test_caller("442079460000")
    assert standards.is_test_caller("+44 20 7946 0000")
    assert not standards.is_test_caller("+442079460001")
    assert not standards.is_test_caller("anonymous")
    assert not standards.is_test_caller("200")


# Properties of working time

instants = st.datetimes(
    min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from(
    [
        WorkingCalendar(),
        SCOTLAND,
        OPEN_ROUND_THE_CLOCK_ON_SUNDAY,
        WorkingCalendar(
            timezone="America/New_York",
            country="US",
            opening_hours={"mon": "08:00-12:00, 13:00-18:30", "sat": "10:00-14:00"},
        ),
    ]
)


@given(calendars, instants, instants, instants)
def test_working_time_is_additive_over_any_split(
    calendar: WorkingCalendar, first: datetime, second: datetime, third: datetime
) -> None:
    start, middle, end = sorted([first, second, third])
    whole = calendar.working_seconds(start, end)
    parts = calendar.working_seconds(start, middle) + calendar.working_seconds(middle, end)
    assert math.isclose(whole, parts, abs_tol=1e-6)


@given(calendars, instants, instants)
def test_working_time_is_never_negative_nor_more_than_elapsed_time(
    calendar: WorkingCalendar, first: datetime, second: datetime
) -> None:
    start, end = sorted([first, second])
    working = calendar.working_seconds(start, end)
    assert 0.0 <= working <= (end - start).total_seconds()


@given(calendars, instants)
def test_no_working_time_passes_in_an_instant(calendar: WorkingCalendar, instant: datetime) -> None:
    assert calendar.working_seconds(instant, instant) == 0.0


@given(instants)
def test_working_hours_callback_allows_exactly_one_working_day(missed_at: datetime) -> None:
    deadline = WORKING_HOURS.callback_deadline(missed_at)
    assert WORKING_HOURS.working_seconds(missed_at, deadline) == hours(8)
    assert WORKING_HOURS.is_working_time(deadline - timedelta(microseconds=1))
