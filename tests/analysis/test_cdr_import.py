"""`import-cdr`: the real lab Asterisk's Master.csv, and a file with broken rows."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.calls import lab_call
from ringtest.sources.cdr_import import import_cdr
from ringtest.store import Store
from tests.analysis.conftest import LAB_CONFIG, stored_call

MASTER_CSV = Path("var/log/asterisk/cdr-csv/Master.csv")
CDR_WAIT_SECONDS = 30.0
# (caller, extension, X-Lab-Answer, give up after ms): distinct citizen numbers so other
# engineers' calls in the shared lab's Master.csv are told apart.
LAB_CALLS = (
    ("+441382000171", "2001", "1500", 0),
    ("+441382000172", "2002", "never", 3000),
    ("+441382000173", "2004", "never", 0),
    ("+441382000174", "2005", None, 0),
)


@pytest.fixture
def settings(tmp_path: Path):
    return load_settings(
        LAB_CONFIG, overrides={"store.url": f"sqlite:///{tmp_path / 'r.db'}"}, environ={}
    )


def new_rows(master: Path, offset: int, callers: set[str]) -> list[str]:
    """Rows of `master` after byte `offset` whose src is one of `callers`, once all have ended."""
    deadline = time.monotonic() + CDR_WAIT_SECONDS
    while True:
        with master.open("rb") as file:
            file.seek(offset)
            lines = file.read().decode().splitlines()
        mine = [line for line in lines if line.split(",")[1].strip('"') in callers]
        seen = {line.split(",")[1].strip('"') for line in mine}
        if seen == callers or time.monotonic() > deadline:
            return mine
        time.sleep(0.2)


@pytest.mark.lab
def test_a_real_lab_master_csv_imports_as_calls_with_outcomes(lab, settings, tmp_path: Path):
    master = rootfs_path(default_lab_dir()) / MASTER_CSV
    offset = master.stat().st_size if master.exists() else 0
    with ThreadPoolExecutor(max_workers=len(LAB_CALLS)) as pool:
        placed = [
            pool.submit(lab_call, dial, answer=answer, caller=caller, give_up_ms=give_up)
            for caller, dial, answer, give_up in LAB_CALLS
        ]
        for future in placed:
            future.result()
    rows = new_rows(master, offset, {caller for caller, *_ in LAB_CALLS})
    cdr = tmp_path / "Master.csv"
    cdr.write_text("\n".join(rows) + "\n")
    with Store.open(settings.store_url()) as store:
        result = import_cdr(cdr, settings, store)
        calls = {call.caller: call for call in store.calls()}
    assert result.bad_rows == [] and result.imported == 4
    answered = calls["+441382000171"]
    assert (answered.outcome, answered.answered_by, answered.department) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "Council Tax",
    )
    assert answered.ring_seconds is not None and 1.0 <= answered.ring_seconds <= 3.0
    assert answered.within_standard
    abandoned = calls["+441382000172"]  # a ring group: two CDR rows, one call
    assert (abandoned.outcome, abandoned.department) == (CallOutcome.ABANDONED, "Housing")
    voicemail = calls["+441382000173"]  # 12 s of ringing, then a voicemail row of its own
    assert (voicemail.outcome, voicemail.answered_by) == (
        CallOutcome.VOICEMAIL,
        AnsweredBy.VOICEMAIL,
    )
    assert voicemail.ring_seconds is not None and 11.0 <= voicemail.ring_seconds <= 13.0
    assert calls["+441382000174"].outcome is CallOutcome.BUSY
    assert all(call.pbx == "lab" for call in calls.values())
    assert answered.gap_note is not None and answered.gap_note.startswith(
        "imported from Asterisk CDR Master.csv, line"
    )


NO_UNKNOWN_RING = "ring time not in the CDR: 0 (the PBX answered first); "
ASSUMED_UTC = (
    "times read as UTC, assumed: the file does not say; if cdr.conf has usegmtime = no "
    "(Asterisk's default) the times are local: import into a new database with --local-times"
)
GOOD = (
    '"","+441382000181","2001","council-inbound","""Citizen"" <+441382000181>",'
    '"PJSIP/citizen-1","PJSIP/staff1-2","Dial","PJSIP/staff1,60","2026-11-17 10:00:00",'
    '"2026-11-17 10:00:24","2026-11-17 10:01:00",60,36,"ANSWERED","DOCUMENTATION",'
    '"1795390000.1",""'
)
BROKEN = "\n".join(
    [
        GOOD,
        '"","+441382000182","2001","council-inbound"',
        GOOD.replace("2026-11-17 10:00:00", "yesterday").replace("1795390000.1", "17.2"),
        GOOD.replace('"ANSWERED"', '"MAYBE"').replace("1795390000.1", "17.3"),
        GOOD.replace('"2026-11-17 10:01:00"', '"2026-11-17 09:00:00"').replace(
            "1795390000.1", "17.4"
        ),
        GOOD.replace('"2001"', '"9999"').replace("1795390000.1", "17.5"),
    ]
)


def test_broken_rows_are_named_by_line_and_skipped_and_stored_calls_are_kept(
    settings, tmp_path: Path
):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(BROKEN + "\n")
    at = datetime(2026, 11, 17, 10, tzinfo=UTC)
    live = replace(stored_call(1, "Council Tax", "2001", at, 3.0, True), call_id="1795390000.1")
    with Store.open(settings.store_url()) as store:
        store.save_calls([live])
        result = import_cdr(cdr, settings, store)
        assert store.calls() == [live]
    assert result.bad_rows == [
        "line 2: 4 fields, expected 18 (cdr_csv with loguniqueid and loguserfield), "
        "17 or 21 (with newcdrcolumns), 19 (cdr_custom's sample mapping), or 26 (FreePBX)",
        "line 3: start 'yesterday' is not a time: expected YYYY-MM-DD HH:MM:SS",
        "line 4: disposition 'MAYBE' is not one of ANSWERED, BUSY, CONGESTION, FAILED, NO ANSWER",
        "line 5: end 2026-11-17 09:00:00 is before start 2026-11-17 10:00:00",
    ]
    assert (result.rows_read, result.already_stored, result.not_monitored) == (6, 1, 1)
    assert result.imported == 0


def test_a_200_kb_field_skips_its_row_and_the_rows_after_it_are_imported(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    huge = GOOD.replace('"council-inbound"', '"' + "x" * 200_000 + '"').replace(
        "1795390000.1", "17.6"
    )
    cdr.write_text(huge + "\n" + GOOD + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "import-cdr", str(cdr)],
        capture_output=True, text=True, env={"RINGTEST_DB": settings.store_url() or ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    created, *problems = done.stderr.splitlines()
    assert created.startswith("ringtest: created a new database sqlite:///")
    assert problems == [
        f"ringtest: {cdr}: line 1: cannot be read as CSV (field larger than field limit "
        "(131072)): skipped"
    ]
    assert done.stdout.strip() == (
        f"read 2 rows from {cdr}: imported 1 calls; 0 already stored (kept as stored), "
        "0 not to a monitored line, 1 bad rows skipped; " + NO_UNKNOWN_RING + ASSUMED_UTC
    )


def test_an_answer_after_eight_rings_breaches_the_seven_ring_standard(settings, tmp_path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(GOOD + "\n")  # answered 24 s after the start: 8 rings of 3 s
    with Store.open(settings.store_url()) as store:
        import_cdr(cdr, settings, store)
        [call] = store.calls()
    assert (call.ring_seconds, call.rings, call.within_standard) == (24.0, 8, False)


def test_ringtest_import_cdr_reports_bad_rows_on_stderr(settings, tmp_path: Path):
    cdr = tmp_path / "Master.csv"
    cdr.write_text(BROKEN + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "import-cdr", str(cdr)],
        capture_output=True,
        text=True,
        env={"RINGTEST_DB": settings.store_url() or ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0].startswith("ringtest: created a new database")
    assert done.stderr.splitlines()[2] == (
        f"ringtest: {cdr}: line 3: start 'yesterday' is not a time: "
        "expected YYYY-MM-DD HH:MM:SS: skipped"
    )
    assert done.stdout.strip() == (
        f"read 6 rows from {cdr}: imported 1 calls; 0 already stored (kept as stored), "
        "1 not to a monitored line, 4 bad rows skipped; " + NO_UNKNOWN_RING + ASSUMED_UTC
    )
