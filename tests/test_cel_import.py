"""`import-cel`: the lab Asterisk's own CEL of one run of every line, and broken files.

`tests/fixtures/cel/lab_every_line.csv` is the lab's cel-custom/Master.csv of one run of
`tests/ami/test_live_lab.py`'s scenarios (whose truths are the X-Lab-Answer delays), cut
to those calls and the attended transfer's consultation call.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.lab.pbx import modules_to_load
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.cel_import import import_cel
from ringtest.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "cel" / "lab_every_line.csv"
TOLERANCE_SECONDS = 0.050

# call id (Linkedid): (line, outcome, answered by, ring seconds: the X-Lab-Answer truth)
TRUTH = {
    "1796380092.1155": ("2001", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.0),
    "1796380092.1156": ("benefits", CallOutcome.ANSWERED, AnsweredBy.PERSON, 2.5),
    "1796380092.1157": ("2000", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.2),
    "1796380092.1158": ("2002", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.5),
    "1796380093.1164": ("2004", CallOutcome.VOICEMAIL, AnsweredBy.VOICEMAIL, 12.0),
    "1796380094.1166": ("2005", CallOutcome.BUSY, AnsweredBy.NONE, None),
    "1796380094.1167": ("2001", CallOutcome.ABANDONED, AnsweredBy.NONE, 3.0),
    "1796380095.1169": ("2006", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.1),
    "1796380097.1171": ("2007", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.3),
    "1796380099.1178": ("2008", CallOutcome.FAILED, AnsweredBy.NONE, None),
    "1796380099.1179": ("permits", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.7),
    "1796380100.1181": ("2010", CallOutcome.ANSWERED, AnsweredBy.PERSON, 1.4),
}


def settings_in(directory: Path):
    """The lab's settings (German cadence) with a new SQLite store in `directory`."""
    return load_settings(
        LAB_CONFIG,
        overrides={"store.url": f"sqlite:///{directory / 'r.db'}", "standards.ring_cadence": "DE"},
        environ={},
    )


@pytest.fixture
def settings(tmp_path: Path):
    return settings_in(tmp_path)


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text().splitlines()))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue())
    return path


def imported(settings, path: Path):
    with Store.open(settings.store_url()) as store:
        result = import_cel(path, settings, store)
        return result, {call.call_id: call for call in store.calls()}


def test_every_lab_line_imports_with_the_truth_of_its_call(settings):
    result, calls = imported(settings, FIXTURE)
    assert (result.bad_row_count, result.in_progress, result.anomalies) == (0, 0, 0)
    assert (result.imported, result.not_monitored) == (12, 1)  # and the consultation call
    for call_id, (line, outcome, answered_by, ring_seconds) in TRUTH.items():
        call = calls[call_id]
        assert (call.line, call.outcome, call.answered_by) == (line, outcome, answered_by)
        if ring_seconds is None:
            assert call.ring_seconds is None
        else:
            assert call.ring_seconds == pytest.approx(ring_seconds, abs=TOLERANCE_SECONDS)
        assert call.caller == "+441382000199" and call.is_test_call
    ivr = calls["1796380092.1157"]
    assert ivr.ivr_seconds == pytest.approx(5.907, abs=0.001)  # the menu's prompt, then 3 s
    assert (
        calls["1796380092.1155"].gap_note
        == "imported from Asterisk CEL lab_every_line.csv, lines 1-30"
    )


def test_a_second_import_adds_nothing_and_a_listener_call_is_kept_as_stored(settings):
    first, calls = imported(settings, FIXTURE)
    live = replace(calls["1796380092.1155"], ring_seconds=1.003, gap_note=None)
    with Store.open(settings.store_url()) as store:
        store.save_calls([live])
        again = import_cel(FIXTURE, settings, store)
        stored = {call.call_id: call for call in store.calls()}
    assert (first.imported, again.imported, again.already_stored) == (12, 0, 12)
    assert stored["1796380092.1155"] == live
    assert len(stored) == 12


def test_a_callee_that_answers_busy_never_started_the_ringing(settings, tmp_path):
    """staff1 (2001) answers the INVITE with 486: no ring time, as the listener, which
    never sees it ring; the caller's hang-up carries the Dial's BUSY."""
    rows = [row for row in rows_of(FIXTURE) if row[15] == "1796380092.1155"][:11]
    caller_start, caller_app, callee_start = rows[0], rows[1], rows[2]
    assert (caller_start[0], caller_app[0], callee_start[0]) == (
        "CHAN_START",
        "APP_START",
        "CHAN_START",
    )
    busy = '{"hangupcause":17,"hangupsource":"","dialstatus":""}'
    gone = '{"hangupcause":17,"hangupsource":"","dialstatus":"BUSY"}'
    callee_hangup = [*callee_start[:19], busy]
    callee_hangup[0], callee_hangup[1] = "HANGUP", "1796380092.240000"
    caller_hangup = [*caller_app[:19], gone]
    caller_hangup[0], caller_hangup[1] = "HANGUP", "1796380092.250000"
    path = write_rows(tmp_path / "Master.csv", [caller_start, caller_app, callee_start,
                                                callee_hangup, caller_hangup])  # fmt: skip
    result, calls = imported(settings, path)
    call = calls["1796380092.1155"]
    assert (call.outcome, call.answered_by, call.ring_seconds) == (
        CallOutcome.BUSY,
        AnsweredBy.NONE,
        None,
    )
    assert result.anomalies == 0


def test_a_busy_callee_whose_hang_up_comes_after_voicemail_answered_never_rang(settings):
    """The lab's own order: 2004's Dial returns BUSY, VoiceMail answers the caller, and
    only then is staff7's hang-up (cause 17) logged."""
    result, calls = imported(settings, FIXTURE.with_name("staff_busy_then_voicemail.csv"))
    call = calls["1796380903.2025"]
    assert (call.outcome, call.answered_by, call.ring_seconds) == (
        CallOutcome.VOICEMAIL,
        AnsweredBy.VOICEMAIL,
        None,
    )
    assert call.caller == "+441382000196"  # the number the dialplan set, after CHAN_START's


def test_calls_in_progress_at_the_end_are_left_for_a_later_import(settings, tmp_path):
    rows = rows_of(FIXTURE)
    cut = next(
        n for n, row in enumerate(rows) if row[0] == "ANSWER" and row[14] == "1796380092.1161"
    )
    partial = write_rows(tmp_path / "Master.csv", rows[:cut])
    with Store.open(settings.store_url()) as store:
        early = import_cel(partial, settings, store)
        later = import_cel(FIXTURE, settings, store)
    assert (early.imported, early.in_progress) == (0, 4)
    assert (later.imported, later.in_progress) == (12, 0)


def test_a_file_that_begins_mid_call_counts_the_call_as_anomalies(settings, tmp_path):
    rows = rows_of(FIXTURE)
    caller_start = next(n for n, row in enumerate(rows) if row[14] == "1796380092.1155")
    path = write_rows(tmp_path / "Master.csv", rows[:caller_start] + rows[caller_start + 1 :])
    result, calls = imported(settings, path)
    assert "1796380092.1155" not in calls
    assert result.imported == 11 and result.anomalies > 0


BAD_ROWS = (
    '"CHAN_START","1796380092.227504","Ring Tester"\n'
    + '"CHAN_START","2026-12-04 10:28:12"' + ',"x"' * 17 + ',""\n'
    + '"CHAN_START","1796380092.227504"' + ',""' * 18 + "\n"
    + '"CHAN_START","1796380092.227504","\0"' + ',""' * 17 + "\n"
)  # fmt: skip


def test_broken_rows_are_named_by_line_and_skipped(settings, tmp_path):
    path = tmp_path / "Master.csv"
    path.write_text(BAD_ROWS + FIXTURE.read_text())
    result, calls = imported(settings, path)
    assert result.bad_rows == [
        "line 1: 3 fields, expected 20 (the mapping of Asterisk's cel_custom.conf.sample)",
        "line 2: eventtime '2026-12-04 10:28:12' is not epoch seconds with microseconds: "
        "remove dateformat from cel.conf",
        "line 3: no uniqueid: map CHANNEL(uniqueid) in cel_custom.conf",
        "line 4: holds a NUL byte: the file is damaged or not text",
    ]
    assert result.imported == 12 and len(calls) == 12


def run_cli(settings, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "import-cel", str(path)],
        capture_output=True,
        text=True,
        env={"RINGTEST_DB": settings.store_url() or ""},
    )


def test_ringtest_import_cel_says_what_it_imported(settings):
    done = run_cli(settings, FIXTURE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"read 212 rows from {FIXTURE}: imported 12 calls; 0 already stored (kept as stored), "
        "1 not to a monitored line, 0 still in progress at the end of the file (import again "
        "later), 0 events of calls begun before the file, 0 bad rows skipped"
    )
    assert run_cli(settings, FIXTURE).stdout.startswith(
        f"read 212 rows from {FIXTURE}: imported 0 calls; 12 already stored"
    )


def test_ringtest_import_cel_of_no_cel_exits_1_with_one_line(settings, tmp_path):
    path = tmp_path / "Master.csv"
    path.write_text(BAD_ROWS)
    done = run_cli(settings, path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"ringtest: nothing imported from {path}: all 4 rows are bad (see above): give "
        "cel_custom's Master.csv with the columns of cel_custom.conf.sample"
    )
    nul = f"ringtest: {path}: line 4: holds a NUL byte: the file is damaged or not text: skipped"
    assert nul in done.stderr.splitlines()


MODULES_CONF = """[modules]
autoload = no
load => cdr_csv.so
; CEL
load => res_cdrel_custom.so
load => cel_custom.so ; after its dependency
noload => chan_sip.so
"""
MODULE_SHOW = """Module                         Description          Use Count  Status   Support
cdr_csv.so                     Comma Separated Values CDR Backend  0  Running  extended
cel                            CEL Engine                          1  Running  core
3 modules loaded
"""


def test_lab_up_loads_the_modules_modules_conf_names_that_are_not_running():
    assert modules_to_load(MODULES_CONF, MODULE_SHOW) == ["res_cdrel_custom.so", "cel_custom.so"]
    assert (
        modules_to_load(MODULES_CONF, MODULE_SHOW + "res_cdrel_custom.so x\ncel_custom.so x\n")
        == []
    )


def test_a_file_without_application_starts_is_warned_about(settings, tmp_path):
    rows = [row for row in rows_of(FIXTURE) if row[0] != "APP_START"]
    path = write_rows(tmp_path / "Master.csv", rows)
    done = run_cli(settings, path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"ringtest: {path} has no APP_START rows: queue entries, voicemail and IVRs went "
        "unseen; set events and apps in cel.conf as docker/asterisk/cel.conf does"
    )
    assert "has no APP_START rows" not in run_cli(settings_in(tmp_path / "b"), FIXTURE).stderr
