"""`import-queue-log`: the lab Asterisk's queue_log of the run whose CEL and CDR are in
tests/fixtures/cel/, merged with those imports, and the queue events the lab does not make
(abandons, a caller leaving by timeout, a queue nobody monitors, a broken line)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.cdr_import import import_cdr
from ringtest.sources.cel_import import import_cel
from ringtest.sources.queue_log_import import import_queue_log
from ringtest.store import Store
from tests.test_cel_import import FIXTURE, TRUTH, settings_in

QUEUE_LOG = FIXTURE.with_name("lab_every_line_queue_log")
BENEFITS, PERMITS = "1796380092.1156", "1796380099.1179"
MORE = """1796390000|1796390000.1|benefits|NONE|ENTERQUEUE||01382000301|1
1796390000|1796390000.2|permits|NONE|ENTERQUEUE||+441382000302|1
1796390001|1796390000.3|sales|NONE|ENTERQUEUE||+441382000303|1
1796390004|1796390001.1|benefits|NONE|ENTERQUEUE||+441382000304|1
1796390007|1796390000.1|benefits|NONE|ABANDON|1|1|7
1796390009|1796390000.3|sales|Sales one|CONNECT|8|1796390000.4|8
1796390010|1796390000.3|sales|Sales one|COMPLETEAGENT|8|1|1
1796390020|1796390000.2|permits|NONE|EXITWITHTIMEOUT|1|1|20
this is not a queue_log line
"""


@pytest.fixture
def settings(tmp_path: Path):
    return settings_in(tmp_path)


def imported(settings, *paths: Path):
    with Store.open(settings.store_url()) as store:
        results = [import_queue_log(path, settings, store) for path in paths]
        return results, {call.call_id: call for call in store.calls()}


def test_the_lab_queue_calls_import_with_their_waits(settings):
    [result], calls = imported(settings, QUEUE_LOG)
    assert (result.rows_read, result.imported, result.bad_row_count) == (7, 2, 0)
    for call_id, wait in ((BENEFITS, 2.0), (PERMITS, 1.0)):
        line, outcome, answered_by, truth = TRUTH[call_id]
        call = calls[call_id]
        assert (call.line, call.outcome, call.answered_by) == (line, outcome, answered_by)
        assert call.ring_seconds == wait and abs(call.ring_seconds - truth) < 1.0
        assert call.caller == "+441382000199" and call.is_test_call
        assert call.gap_note.endswith(", whole seconds")


def test_abandons_timeouts_and_unmonitored_queues(settings, tmp_path):
    more = tmp_path / "queue_log"
    more.write_text(MORE)
    [result], calls = imported(settings, more)
    abandoned = calls["1796390000.1"]
    assert (abandoned.outcome, abandoned.answered_by, abandoned.ring_seconds) == (
        CallOutcome.ABANDONED,
        AnsweredBy.NONE,
        7.0,
    )
    assert abandoned.caller == "+441382000301"  # as the configured region writes it
    assert set(calls) == {"1796390000.1"}
    assert (result.left_unanswered, result.not_monitored, result.in_progress) == (1, 1, 1)
    assert result.bad_rows == [
        "line 9: not EPOCH|CALLID|QUEUE|AGENT|EVENT|DATA...: not a queue_log"
    ]


def test_a_call_already_imported_from_cel_is_not_counted_twice(settings):
    with Store.open(settings.store_url()) as store:
        import_cel(FIXTURE, settings, store)
        from_cel = {call.call_id: call for call in store.calls()}
    [result], calls = imported(settings, QUEUE_LOG)
    assert (result.imported, result.already_stored, result.waits_added) == (0, 2, 0)
    assert calls == from_cel  # CEL's exact waits kept


def test_a_stored_call_without_a_ring_time_gets_the_queue_wait(settings):
    with Store.open(settings.store_url()) as store:
        import_cdr(FIXTURE.with_name("lab_every_line_cdr.csv"), settings, store)
        [queued] = [call for call in store.calls() if call.call_id == BENEFITS]
        unknown = replace(queued, ring_started_at=None, ring_seconds=None, rings=None,
                          within_standard=False)  # fmt: skip
        store.save_calls([unknown])  # as the CDR stores a queue that answered first
    (first, again), calls = imported(settings, QUEUE_LOG, QUEUE_LOG)
    call = calls[BENEFITS]
    assert (call.ring_seconds, call.rings, call.within_standard) == (2.0, 1, True)
    assert call.gap_note == (
        f"{queued.gap_note}; wait from Asterisk queue_log lab_every_line_queue_log"
    )
    assert (first.waits_added, first.imported, again.waits_added) == (1, 0, 0)
    assert len(calls) == 12


def test_ringtest_import_queue_log_says_what_it_did_and_exits_1_on_nothing(settings, tmp_path):
    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "import-queue-log",
             str(path)],
            capture_output=True, text=True, env={"RINGTEST_DB": settings.store_url() or ""},
        )  # fmt: skip

    done = run(QUEUE_LOG)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"read 7 lines from {QUEUE_LOG}: imported 2 queue calls; 0 already stored (kept, 0 "
        "given the wait they lacked), 0 left the queue unanswered (their outcome is in the "
        "CDR or CEL), 0 of queues not monitored, 0 still in progress, 0 bad lines skipped"
    )
    empty = tmp_path / "queue_log"
    empty.write_text("1796380092|NONE|NONE|NONE|CONFIGRELOAD|\n")
    refused = run(empty)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-1] == (
        f"ringtest: nothing imported from {empty}: no answered or abandoned call of a "
        "monitored queue: check [[lines]] queue names in ringtest.toml against the file's queues"
    )
