"""Contract: callback tests come back equal, upsert by test_id, list oldest first by status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ringtest.core.records import CallbackMatch, CallbackTest, CallbackTestStatus
from ringtest.store import Store

LEFT_AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def callback_test(test_id: str = "t1", minutes_later: int = 0, **changes) -> CallbackTest:
    left_at = LEFT_AT + timedelta(minutes=minutes_later)
    test = CallbackTest(
        test_id=test_id,
        account="ringtester",
        target="+441382434004",
        department="Planning",
        callback_number="+441382000199",
        reference="RT-0001",
        left_at=left_at,
        deadline_at=left_at + timedelta(days=1),
    )
    return replace(test, **changes)


def test_an_open_callback_test_comes_back_equal(store: Store):
    store.save_callback_test(callback_test())
    assert store.callback_tests() == [callback_test()]


def test_closing_a_callback_test_replaces_its_row(store: Store):
    store.save_callback_test(callback_test())
    closed = callback_test(
        status=CallbackTestStatus.CALLED_BACK,
        closed_at=LEFT_AT + timedelta(hours=2),
        caller="+441382434099",
        matched_by=CallbackMatch.LINE_CALLER_ID,
        working_seconds=7200.0,
        within_deadline=True,
    )
    store.save_callback_test(closed)
    assert store.callback_tests() == [closed]
    assert store.callback_tests(status=CallbackTestStatus.OPEN) == []


def test_open_callback_tests_are_listed_oldest_first_per_account(store: Store):
    store.save_callback_test(callback_test("late", minutes_later=9))
    store.save_callback_test(callback_test("early"))
    store.save_callback_test(callback_test("other", account="second"))
    listed = store.callback_tests(status=CallbackTestStatus.OPEN, account="ringtester")
    assert [test.test_id for test in listed] == ["early", "late"]
