"""The callback work list: deadlines in working time, tries, priority, masking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analysis.live_board import MissedCall
from analysis.work_list import mask_number, met_text, priority_of, work_list
from ringtest.core.calendar import WorkingCalendar
from ringtest.core.records import CallbackObligation, CallbackStatus, CallOutcome
from ringtest.core.standards import Standards

STANDARDS = Standards(calendar=WorkingCalendar("Europe/London", country="GB", subdivision="SCT"))
FRIDAY_4PM = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def owed(call_id: str, caller: str, missed_at: datetime, **fields) -> CallbackObligation:
    return CallbackObligation(
        call_id=call_id, pbx="lab", caller=caller, line="2001", department="Council Tax",
        missed_at=missed_at, deadline_at=STANDARDS.callback_deadline(missed_at),
        status=CallbackStatus.OPEN, **fields,
    )  # fmt: skip


def test_time_left_counts_working_hours_only_and_stops_out_of_hours():
    row = work_list([owed("1", "+441382000131", FRIDAY_4PM)], {}, STANDARDS, FRIDAY_4PM)[0]
    # missed at 16:00 on Friday: due 16:00 on Monday, one working day (8 h) later
    assert row.deadline_at == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)
    assert (row.working_seconds_left, row.counting) == (8 * 3600.0, True)
    saturday = FRIDAY_4PM + timedelta(days=1)
    later = work_list([owed("1", "+441382000131", FRIDAY_4PM)], {}, STANDARDS, saturday)[0]
    assert (later.working_seconds_left, later.counting) == (7 * 3600.0, False)


def test_a_bank_holiday_stops_the_countdown():
    christmas_eve = datetime(2026, 12, 24, 16, 0, tzinfo=UTC)
    row = work_list([owed("1", "+441382000131", christmas_eve)], {}, STANDARDS, christmas_eve)[0]
    # 25 and 26 Dec are holidays in Scotland (26th a Saturday, substitute Monday 28th)
    assert row.deadline_at.date() > datetime(2026, 12, 26).date()
    assert row.working_seconds_left == 8 * 3600.0


def test_an_overdue_row_has_negative_working_time():
    missed = FRIDAY_4PM - timedelta(days=3)  # Tuesday 16:00, due Wednesday 16:00
    row = work_list([owed("1", "+441382000131", missed)], {}, STANDARDS, FRIDAY_4PM)[0]
    assert row.overdue
    assert row.working_seconds_left == -(1 + 8 + 7) * 3600.0


def test_a_call_missed_on_st_andrews_day_is_due_at_the_next_working_days_close():
    missed = FRIDAY_4PM - timedelta(days=4)  # Monday 30 November, a Scottish holiday
    row = work_list([owed("1", "+441382000131", missed)], {}, STANDARDS, FRIDAY_4PM)[0]
    assert row.deadline_at == datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    assert row.working_seconds_left == -(8 + 8 + 7) * 3600.0


def test_one_row_per_caller_sorted_by_deadline_with_tries_today_and_priority():
    rows = work_list(
        [
            owed("1", "+441382000131", FRIDAY_4PM - timedelta(hours=6)),
            owed("2", "+441382000131", FRIDAY_4PM - timedelta(hours=5)),
            owed("3", "+441382000131", FRIDAY_4PM - timedelta(hours=4)),
            owed("4", "+441382000132", FRIDAY_4PM - timedelta(hours=7)),
            owed("5", "+441382000133", FRIDAY_4PM - timedelta(days=1)),
        ],
        {("lab", "3"): MissedCall(CallOutcome.ABANDONED, 4)},
        STANDARDS,
        FRIDAY_4PM,
    )
    assert [(row.key, row.tries_today, row.priority) for row in rows] == [
        ("lab/5", 0, "normal"),
        ("lab/4", 1, "normal"),
        ("lab/1", 3, "urgent"),
    ]
    assert rows[2].met == "abandoned after 4 rings"


@pytest.mark.parametrize(
    ("tries", "priority"), [(0, "normal"), (1, "normal"), (2, "high"), (3, "urgent"), (9, "urgent")]
)
def test_priority_rises_with_tries(tries, priority):
    assert priority_of(tries) == priority


def test_what_the_caller_met():
    assert met_text(MissedCall(CallOutcome.VOICEMAIL, 7)) == "voicemail"
    assert met_text(MissedCall(CallOutcome.BUSY, None)) == "busy"
    assert met_text(None) == "missed"


def test_numbers_are_masked_unless_shown():
    assert mask_number("+441382000101") == "+44 1382 ••• 101"
    assert mask_number("+442079460000") == "+44 20 ••• 000"
    assert mask_number("anonymous") == "••• "
    rows = work_list([owed("1", "+441382000131", FRIDAY_4PM)], {}, STANDARDS, FRIDAY_4PM)
    assert rows[0].caller == "+44 1382 ••• 131"
    shown = work_list([owed("1", "+441382000131", FRIDAY_4PM)], {}, STANDARDS, FRIDAY_4PM, True)
    assert shown[0].caller == "+441382000131"
