"""The planner: only within windows, never on a bank holiday, the right count, reproducible,
spread (no overlaps, the minimum gap), within the concurrency limit.

Calendar facts used (GB, `holidays`): 2026-11-30 (Mon) is St Andrew's Day in
Scotland only; 2026-12-25 (Fri) is Christmas Day and 2026-12-28 (Mon) the
observed Boxing Day everywhere in GB.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from ringtest.campaigns.plan import (
    call_seconds,
    gap_seconds,
    parse_week,
    plan_between,
    plan_week,
    shortfall,
    week_label,
)
from ringtest.core.calendar import WorkingCalendar
from ringtest.core.errors import CampaignError

LONDON = ZoneInfo("Europe/London")
SCOTLAND = WorkingCalendar("Europe/London", country="GB", subdivision="SCT")
ENGLAND = WorkingCalendar("Europe/London", country="GB", subdivision="ENG")
WEEK_OF_ST_ANDREWS_DAY = date(2026, 11, 30)
WEEK_OF_CHRISTMAS = date(2026, 12, 21)
PLAIN_WEEK = date(2026, 11, 9)


def local(call) -> datetime:
    return call.planned_at.astimezone(LONDON)


def test_every_call_starts_inside_a_window_with_room_for_the_whole_call(campaign_of):
    definition = campaign_of(
        "windows:\n  - Mon-Thu 09:30-12:00, 14:00-16:30\n  - Fri 10:00-12:00\n",
        replace={"frequency": "frequency: 2 per day"},
    )
    length = timedelta(seconds=call_seconds(definition))
    ranges = {
        **{day: [(9 * 60 + 30, 12 * 60), (14 * 60, 16 * 60 + 30)] for day in range(4)},
        4: [(10 * 60, 12 * 60)],
    }

    calls = plan_week(definition, SCOTLAND, PLAIN_WEEK)

    assert len(calls) == 2 * 2 * 5
    for call in calls:
        start, end = local(call), local(call) + length
        minute = start.hour * 60 + start.minute
        end_minute = end.hour * 60 + end.minute + (end.second > 0)
        assert any(
            opens <= minute and end_minute <= closes for opens, closes in ranges[start.weekday()]
        ), start


def test_without_windows_calls_fall_in_the_configured_opening_hours(campaign_of):
    calls = plan_week(campaign_of(), SCOTLAND, PLAIN_WEEK)

    assert calls
    assert all(local(call).weekday() < 5 and 9 <= local(call).hour < 17 for call in calls)


def test_no_call_on_christmas_day_or_the_observed_boxing_day(campaign_of):
    definition = campaign_of(replace={"frequency": "frequency: 4 per day"})

    christmas_week = plan_week(definition, SCOTLAND, WEEK_OF_CHRISTMAS)
    boxing_day_week = plan_week(definition, SCOTLAND, date(2026, 12, 28))

    assert {local(call).date() for call in christmas_week} == {
        date(2026, 12, 21),
        date(2026, 12, 22),
        date(2026, 12, 23),
        date(2026, 12, 24),
    }
    assert date(2026, 12, 28) not in {local(call).date() for call in boxing_day_week}


def test_no_call_on_st_andrews_day_when_the_calendar_is_scottish(campaign_of):
    definition = campaign_of(replace={"frequency": "frequency: 4 per day"})

    scottish_days = {
        local(call).date() for call in plan_week(definition, SCOTLAND, WEEK_OF_ST_ANDREWS_DAY)
    }
    english_days = {
        local(call).date() for call in plan_week(definition, ENGLAND, WEEK_OF_ST_ANDREWS_DAY)
    }

    assert date(2026, 11, 30) not in scottish_days
    assert date(2026, 11, 30) in english_days


def test_n_per_week_places_exactly_n_to_each_target_even_in_a_bank_holiday_week(campaign_of):
    definition = campaign_of()

    for monday in (PLAIN_WEEK, WEEK_OF_ST_ANDREWS_DAY, WEEK_OF_CHRISTMAS):
        counts = Counter(call.target for call in plan_week(definition, SCOTLAND, monday))
        assert counts == {"Council Tax": 3, "Housing": 3}, monday


def test_n_per_day_places_n_to_each_target_on_every_working_day(campaign_of):
    definition = campaign_of(replace={"frequency": "frequency: 2 per day"})

    calls = plan_week(definition, SCOTLAND, WEEK_OF_ST_ANDREWS_DAY)

    per_day_and_target = Counter((local(call).date(), call.target) for call in calls)
    working_days = [WEEK_OF_ST_ANDREWS_DAY + timedelta(days=offset) for offset in range(1, 5)]
    assert per_day_and_target == {
        (day, target): 2 for day in working_days for target in ("Council Tax", "Housing")
    }


def test_a_week_cut_by_the_start_date_gets_its_share_of_the_tests(campaign_of):
    definition = campaign_of(
        replace={"start": "start: 2026-11-11", "frequency": "frequency: 5 per week"}
    )

    calls = plan_week(definition, SCOTLAND, PLAIN_WEEK)

    assert Counter(call.target for call in calls) == {"Council Tax": 3, "Housing": 3}
    assert min(local(call).date() for call in calls) >= date(2026, 11, 11)


def test_nothing_is_planned_after_the_end_date(campaign_of):
    definition = campaign_of("end: 2026-11-10\n", replace={"frequency": "frequency: 1 per day"})

    calls = plan_week(definition, SCOTLAND, PLAIN_WEEK)

    assert {local(call).date() for call in calls} == {date(2026, 11, 9), date(2026, 11, 10)}


def test_the_same_file_and_week_give_the_same_plan_to_the_second(campaign_of):
    first = plan_week(campaign_of(), SCOTLAND, PLAIN_WEEK)
    again = plan_week(campaign_of(), SCOTLAND, PLAIN_WEEK)

    assert first == again
    assert all(call.planned_at.microsecond == 0 for call in first)


def test_another_seed_or_week_gives_other_times(campaign_of):
    times = [call.planned_at.time() for call in plan_week(campaign_of(), SCOTLAND, PLAIN_WEEK)]
    reseeded = campaign_of(replace={"seed": "seed: 8"})
    other_seed = [call.planned_at.time() for call in plan_week(reseeded, SCOTLAND, PLAIN_WEEK)]
    next_week = plan_week(campaign_of(), SCOTLAND, PLAIN_WEEK + timedelta(days=7))

    assert times != other_seed
    assert times != [call.planned_at.time() for call in next_week]


@pytest.mark.parametrize("seed", range(20))
def test_tests_to_one_target_are_at_least_the_minimum_gap_apart(campaign_of, seed):
    definition = campaign_of(
        "min_gap: 90m\n",
        replace={"seed": f"seed: {seed}", "frequency": "frequency: 4 per day"},
    )
    gap = timedelta(seconds=gap_seconds(definition))

    calls = plan_week(definition, SCOTLAND, PLAIN_WEEK)

    for target in ("Council Tax", "Housing"):
        starts = sorted(call.planned_at for call in calls if call.target == target)
        assert all(later - earlier >= gap for earlier, later in pairwise(starts))


def test_the_gap_is_never_shorter_than_one_call_so_tests_to_a_target_never_overlap(campaign_of):
    definition = campaign_of("min_gap: 10s\nmax_rings: 20\n")

    assert gap_seconds(definition) == call_seconds(definition) == 20 * 3 + 32


def test_a_menu_target_makes_one_call_as_long_as_its_navigation(campaign_of):
    """A switchboard: its last key 3.5 s after the answer, then 10 rings, then the
    15 s recording of who answered, on top of a plain call's 10 rings and set-up."""
    definition = campaign_of(
        '  - name: Switchboard\n    number: "+441382434000"\n    ivr: "w2 1 w1.5 2"\n'
        "max_rings: 10\n"
    )

    assert call_seconds(definition) == 10 * 3 + 32 + math.ceil(3.5 + 10 * 3 + 15)


@pytest.mark.parametrize("seed", range(10))
def test_at_most_concurrency_calls_of_the_campaign_are_in_progress_at_once(campaign_of, seed):
    more_targets = "".join(
        f'  - name: Line {n}\n    number: "+4413824340{n:02d}"\n' for n in range(3, 7)
    )
    definition = campaign_of(
        more_targets + "concurrency: 1\nmin_gap: 20m\nwindows:\n  - Mon-Fri 09:00-10:00\n",
        replace={"seed": f"seed: {seed}", "frequency": "frequency: 2 per day"},
    )
    length = timedelta(seconds=call_seconds(definition))

    calls = plan_week(definition, SCOTLAND, PLAIN_WEEK)

    assert len(calls) == 6 * 2 * 5
    starts = sorted(call.planned_at for call in calls)
    assert all(later - earlier >= length for earlier, later in pairwise(starts))


def test_the_callback_share_of_a_weeks_calls_ask_for_a_call_back(campaign_of):
    definition = campaign_of("callback_share: 0.5\n", replace={"frequency": "frequency: 2 per day"})

    calls = plan_week(definition, SCOTLAND, PLAIN_WEEK)

    assert sum(call.callback for call in calls) == len(calls) // 2 == 10


def test_plan_between_keeps_only_calls_in_the_period(campaign_of):
    definition = campaign_of(replace={"frequency": "frequency: 1 per day"})
    since = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)
    until = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)

    calls = plan_between(definition, SCOTLAND, since, until)

    everything = plan_week(definition, SCOTLAND, PLAIN_WEEK) + plan_week(
        definition, SCOTLAND, PLAIN_WEEK + timedelta(days=7)
    )
    assert calls == [call for call in everything if since <= call.planned_at < until]


def test_a_weekly_frequency_a_bank_holiday_week_cannot_hold_is_planned_with_as_many_as_fit(
    campaign_of,
):
    definition = campaign_of(replace={"frequency": "frequency: 36 per week"})
    assert len(plan_week(definition, SCOTLAND, PLAIN_WEEK)) == 2 * 36
    assert shortfall(definition, SCOTLAND, PLAIN_WEEK) is None

    calls = plan_week(definition, SCOTLAND, WEEK_OF_ST_ANDREWS_DAY)
    short = shortfall(definition, SCOTLAND, WEEK_OF_ST_ANDREWS_DAY)

    gap = timedelta(seconds=gap_seconds(definition))
    one_call = timedelta(seconds=call_seconds(definition))
    for target in ("Council Tax", "Housing"):
        starts = sorted(call.planned_at for call in calls if call.target == target)
        assert len(starts) > 0
        assert all(later - earlier >= gap for earlier, later in pairwise(starts))
    every_start = sorted(call.planned_at for call in calls)
    assert all(later - earlier >= one_call for earlier, later in pairwise(every_start))
    assert all(local(call).date() != date(2026, 11, 30) for call in calls)
    assert 0 < len(calls) < 72
    assert short.describe() == (
        "campaign 'spring', week 2026-W49: Saint Andrew's Day (Mon 30 Nov) closed, so "
        f"{len(calls)} of 72 tests fit; {72 - len(calls)} not planned"
    )
    assert shortfall(definition, ENGLAND, WEEK_OF_ST_ANDREWS_DAY) is None


def test_iso_weeks_are_read_and_written_like_2026_w48():
    assert parse_week("2026-W48") == date(2026, 11, 23)
    assert week_label(date(2026, 11, 23)) == "2026-W48"


@pytest.mark.parametrize("text", ["2026-48", "2026-W54", "W48"])
def test_a_week_that_is_not_an_iso_week_is_one_line(text):
    with pytest.raises(CampaignError) as raised:
        parse_week(text)

    assert str(raised.value) == f"week '{text}' is not an ISO week: write it like 2026-W48"
