"""Callback tests on a compressed calendar: open all day, every day, so a one-working-day
deadline is 24 hours and working time is wall time (instants chosen by the test)."""

from datetime import UTC, datetime, timedelta

import pytest

from ringtest.core.calendar import WEEKDAYS, WorkingCalendar
from ringtest.core.records import (
    AnsweredBy,
    CallbackMatch,
    CallbackTestStatus,
    RingTestOutcome,
    RingTestResult,
)
from ringtest.core.standards import Standards
from ringtest.sip.callback_tests import (
    close_called_back,
    close_overdue,
    match_inbound,
    open_callback_test,
)
from ringtest.store import Store

LEFT_AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
STANDARDS = Standards(
    calendar=WorkingCalendar(
        timezone="UTC", opening_hours=dict.fromkeys(WEEKDAYS, "00:00-24:00"), country="GB"
    )
)
LINE_PHONE = "+441382434099"


def unanswered(test_id: str, target: str = "2004") -> RingTestResult:
    return RingTestResult(
        test_id=test_id,
        target=target,
        account="ringtester",
        department="Planning",
        placed_at=LEFT_AT - timedelta(seconds=30),
        outcome=RingTestOutcome.ANSWERED,
        answered_by=AnsweredBy.VOICEMAIL,
        pdd_seconds=0.01,
        ring_seconds=12.0,
        tta_seconds=12.0,
        rings=4,
        within_standard=False,
        sip_code=200,
        reason="OK",
        callback_requested=True,
    )


def opened(test_id: str, number: str = "+441382000199", minutes_later: int = 0, **kwargs):
    return open_callback_test(
        unanswered(test_id, **kwargs),
        callback_number=number,
        reference=f"ref-{test_id}",
        left_at=LEFT_AT + timedelta(minutes=minutes_later),
        standards=STANDARDS,
    )


def test_a_callback_within_the_working_day_is_within_the_deadline():
    test = opened("t1")
    assert test.deadline_at == LEFT_AT + timedelta(days=1)
    closed = close_called_back(
        test,
        called_at=LEFT_AT + timedelta(hours=3),
        caller=LINE_PHONE,
        matched_by=CallbackMatch.OLDEST_OPEN,
        standards=STANDARDS,
    )
    assert closed.status is CallbackTestStatus.CALLED_BACK
    assert closed.working_seconds == 3 * 3600
    assert closed.within_deadline is True


def test_a_callback_after_the_deadline_is_called_back_late():
    closed = close_called_back(
        opened("t1"),
        called_at=LEFT_AT + timedelta(days=1, seconds=1),
        caller=LINE_PHONE,
        matched_by=CallbackMatch.OLDEST_OPEN,
        standards=STANDARDS,
    )
    assert closed.within_deadline is False
    assert closed.working_seconds == 24 * 3600 + 1


def test_never_called_back_is_closed_as_not_called_back_once_the_deadline_passes():
    test = opened("t1")
    assert close_overdue([test], now=test.deadline_at, standards=STANDARDS) == []
    [closed] = close_overdue(
        [test], now=test.deadline_at + timedelta(seconds=1), standards=STANDARDS
    )
    assert closed.status is CallbackTestStatus.NOT_CALLED_BACK
    assert closed.closed_at == test.deadline_at
    assert closed.within_deadline is False


def test_a_did_left_by_one_open_test_matches_it_exactly():
    tests = [opened("a", "+441382000201"), opened("b", "+441382000202", minutes_later=5)]
    match = match_inbound(tests, dialled="+441382000202", caller=LINE_PHONE)
    assert match == (tests[1], CallbackMatch.DID)


def test_the_lines_outbound_caller_id_matches_its_test():
    tests = [opened("a", target="2001"), opened("b", target="2004", minutes_later=5)]
    match = match_inbound(
        tests,
        dialled="+441382000199",
        caller=LINE_PHONE,
        line_caller_ids={"2004": frozenset({LINE_PHONE})},
    )
    assert match == (tests[1], CallbackMatch.LINE_CALLER_ID)


def test_otherwise_the_oldest_open_test_is_matched():
    tests = [opened("late", minutes_later=5), opened("early")]
    assert match_inbound(tests, dialled="+441382000199", caller="anonymous") == (
        tests[1],
        CallbackMatch.OLDEST_OPEN,
    )
    assert match_inbound([], dialled="+441382000199", caller="anonymous") is None


def test_a_restart_between_the_message_and_the_callback_loses_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    with Store.open(url) as before_restart:
        before_restart.save_callback_test(opened("t1"))
    with Store.open(url) as after_restart:
        waiting = after_restart.callback_tests(status=CallbackTestStatus.OPEN)
        test, how = match_inbound(waiting, dialled="+441382000199", caller=LINE_PHONE)
        after_restart.save_callback_test(
            close_called_back(
                test,
                called_at=LEFT_AT + timedelta(hours=1),
                caller=LINE_PHONE,
                matched_by=how,
                standards=STANDARDS,
            )
        )
        [stored] = after_restart.callback_tests()
    assert stored.test_id == "t1"
    assert stored.status is CallbackTestStatus.CALLED_BACK
    assert stored.working_seconds == pytest.approx(3600)
    assert after_restart is not before_restart
