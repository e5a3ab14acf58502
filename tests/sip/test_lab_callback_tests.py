"""Callback tests end to end on the lab PBX, on a compressed calendar (open all day,
every day, in UTC: a one-working-day deadline is 24 hours of wall time).

A callback ring test to 2004 (staff7 never answers, voicemail does) leaves its
message and opens a callback test; a new store instance (as after a restart) and a
new waiter then answer the staff call-back from `staffout` on the registered
`ringtester` account and close the test as called back, while an older open test
past its deadline closes as not called back.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.config.adapters import standards_of
from ringtest.config.models import CalendarSettings, Line
from ringtest.core.calendar import WEEKDAYS
from ringtest.core.records import AnsweredBy, CallbackMatch, CallbackTestStatus
from ringtest.lab.accounts import STAFFOUT
from ringtest.lab.calls import lab_call
from ringtest.services.callback_answering import CallbackCloser, wait_for_callbacks
from ringtest.sip.callback_tests import open_callback_test
from ringtest.sources.ring_tests import RingTestRequest, run_ring_tests
from ringtest.store import Store
from tests.conftest import wait_until

EXAMPLES = Path(__file__).parents[2] / "examples"
STAFF_CALLBACK_NUMBER = "+441382434099"
"""The caller ID the lab's staffout account presents."""
CLOSE_WAIT_SECONDS = 30.0


@pytest.fixture
def settings():
    loaded = load_settings(EXAMPLES / "lab.toml")
    always_open = CalendarSettings(
        timezone="UTC",
        **dict.fromkeys(WEEKDAYS, "00:00-24:00"),
    )
    lines = [
        Line(extension="2004", department="Planning", outbound_caller_ids=[STAFF_CALLBACK_NUMBER]),
        Line(extension="2001", department="Council Tax"),
    ]
    return loaded.model_copy(update={"calendar": always_open, "lines": lines})


def test_a_callback_test_is_left_on_voicemail_and_closed_by_the_staff_call_back(
    lab, sip_endpoint, settings, tmp_path
):
    url = f"sqlite:///{tmp_path / 'ringtest.db'}"
    standards = standards_of(settings)
    with Store.open(url) as store:
        [result] = run_ring_tests(
            settings,
            store,
            [
                RingTestRequest(
                    "2004",
                    department="Planning",
                    callback=True,
                    extra_headers={"X-Lab-Answer": "never"},
                )
            ],
            evidence_dir=tmp_path,
        )
        assert result.answered_by is AnsweredBy.VOICEMAIL
        assert result.callback_requested
        [left] = store.callback_tests(status=CallbackTestStatus.OPEN)
        assert left.test_id == result.test_id
        assert left.callback_number == "+441382000199"
        assert left.reference == result.test_id[:6].upper()
        assert left.deadline_at == left.left_at + timedelta(days=1)
        assert (tmp_path / f"{result.test_id}-message.wav").stat().st_size > 10_000
        stale = open_callback_test(
            replace(result, test_id="stale", target="2001"),
            callback_number="+441382000199",
            reference="STALE",
            left_at=left.left_at - timedelta(days=2),
            standards=standards,
        )
        store.save_callback_test(stale)

    with Store.open(url) as store:  # a restart: only the store remembers the open tests
        closer = CallbackCloser(settings, store, clock=lambda: left.left_at + timedelta(hours=1))
        stop = threading.Event()
        waiter = threading.Thread(
            target=wait_for_callbacks,
            args=(settings, store, stop),
            kwargs={"closer": closer, "prompt_dir": tmp_path},
        )
        waiter.start()
        try:
            # the waiter closes overdue tests once it answers calls: then staff call back
            wait_until(
                lambda: store.callback_tests(status=CallbackTestStatus.NOT_CALLED_BACK),
                CLOSE_WAIT_SECONDS,
            )
            call = lab_call("+441382000199", account=STAFFOUT, hold_ms=10_000)
            assert call.answered
            called_back = wait_until(
                lambda: store.callback_tests(status=CallbackTestStatus.CALLED_BACK),
                CLOSE_WAIT_SECONDS,
            )
        finally:
            stop.set()
            waiter.join()
        [closed] = called_back
        [missed] = store.callback_tests(status=CallbackTestStatus.NOT_CALLED_BACK)

    assert closed.test_id == result.test_id
    assert closed.caller == STAFF_CALLBACK_NUMBER
    assert closed.matched_by is CallbackMatch.LINE_CALLER_ID
    assert closed.within_deadline is True
    assert closed.working_seconds == pytest.approx(
        (closed.closed_at - left.left_at).total_seconds()
    )
    assert 0 < closed.working_seconds < 600
    assert missed.test_id == "stale"
    assert missed.closed_at == stale.deadline_at
    assert missed.within_deadline is False
