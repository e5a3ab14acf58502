"""`import-cdr` reads cdr_custom files whose times are func_cdr's raw epoch microseconds
(``${CDR(start,u)}``), exactly: no whole-second cut, no "whole seconds" mark, UTC.

`tests/fixtures/cel/cdr_custom_exact.csv` is written in the layout of Asterisk's
cdr_custom.conf.sample ``Master.csv`` mapping (19 fields: clid, src, dst, dcontext,
channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
disposition, amaflags, accountcode, uniqueid, userfield, sequence), start, answer and end
as ``${CSV_QUOTE(${CDR(start,u)})}`` writes them (``0.000000``: no answer): a person
answering after 4.512345 s, a caller giving up after 8.75 s of ringing, and an
``Answer()`` 3 ms into a call before its Dial.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringtest.core.observations import RING_TIME_NOT_IN_CDR, WHOLE_SECONDS, has_mark
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.sources.cdr_import import Clock, import_cdr
from ringtest.store import Store
from tests.test_cel_import import FIXTURE, settings_in

EXACT_CDR = FIXTURE.with_name("cdr_custom_exact.csv")


@pytest.fixture
def imported(tmp_path: Path):
    settings = settings_in(tmp_path)
    with Store.open(settings.store_url()) as store:
        result = import_cdr(EXACT_CDR, settings, store, times_are_local=True)
        return result, {call.call_id: call for call in store.calls()}


def test_times_are_read_to_the_microsecond_in_utc_whatever_the_flag(imported):
    result, calls = imported
    assert (result.rows_read, result.bad_row_count, result.imported) == (3, 0, 3)
    assert result.clock == Clock.EXACT_UTC  # epoch times are UTC even with --local-times
    answered = calls["1796385600.1"]
    assert answered.started_at == datetime(2026, 12, 4, 12, 0, 0, 104211, tzinfo=UTC)
    assert answered.answered_at == datetime(2026, 12, 4, 12, 0, 4, 616556, tzinfo=UTC)
    assert (answered.answered_by, answered.ring_seconds) == (AnsweredBy.PERSON, 4.512345)


def test_an_unanswered_calls_zero_answer_is_no_answer_and_its_ringing_is_exact(imported):
    _, calls = imported
    gave_up = calls["1796385700.3"]
    assert (gave_up.outcome, gave_up.answered_at, gave_up.ring_seconds) == (
        CallOutcome.ABANDONED,
        None,
        8.75,
    )


def test_an_answer_milliseconds_into_the_call_is_the_pbxs_and_the_ring_time_unknown(imported):
    result, calls = imported
    answered_first = calls["1796385800.5"]
    assert (answered_first.answered_by, answered_first.ring_seconds) == (AnsweredBy.PERSON, None)
    assert has_mark(answered_first.gap_note, RING_TIME_NOT_IN_CDR)
    assert result.ring_unknown == 1


def test_exact_calls_are_not_marked_whole_seconds(imported):
    _, calls = imported
    for call in calls.values():
        assert call.gap_note.startswith(f"imported from Asterisk CDR {EXACT_CDR.name}")
        assert not has_mark(call.gap_note, WHOLE_SECONDS)
