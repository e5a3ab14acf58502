"""kill -9 of `ringtest listen` on the lab PBX while calls are placed: at its next start the
gap of its downtime is filled from the lab Asterisk's own Master.csv, so every call the
CDR holds for that interval is stored, marked as imported, and `ringtest gaps` says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.core.records import CallOutcome, GapReason
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.calls import lab_call
from ringtest.store import Store
from tests.ami.test_listener_faults import stopped
from tests.analysis.test_cdr_import import MASTER_CSV, new_rows
from tests.conftest import wait_until
from tests.test_cli import LAB_CONFIG, ROOT, wait_for_listener_login

pytestmark = pytest.mark.lab

FILL_WAIT_SECONDS = 40.0
"""The first pass runs 5 s after the gap is published; reading the lab's file takes a few."""
# (caller, extension, X-Lab-Answer, give up after ms), placed while the listener is dead
WHILE_DOWN = (
    ("+441382000191", "2001", "500", 0),
    ("+441382000192", "2002", "never", 2000),
    ("+441382000193", "2004", "busy", 0),
)


def start_listener(tmp_path: Path, master: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ringtest", "-v", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env={
            **os.environ,
            "RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db",
            "RINGTEST_AMI__JOURNAL_DIR": str(tmp_path / "journal"),
            "RINGTEST_HISTORY__CDR_FILE": str(master),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_calls_placed_while_the_listener_was_killed_are_filled_from_the_cdr(lab, tmp_path):
    database = f"sqlite:///{tmp_path}/ringtest.db"
    master = rootfs_path(default_lab_dir()) / MASTER_CSV
    first = start_listener(tmp_path, master)
    try:
        wait_for_listener_login()
        lab_call("2001", answer="500", caller="+441382000190")
        with Store.open(database) as store:
            wait_until(lambda: any(c.caller == "+441382000190" for c in store.calls()), 20.0)
    finally:
        first.kill()
        first.wait()
    offset = master.stat().st_size
    for caller, extension, answer, give_up_ms in WHILE_DOWN:
        lab_call(extension, answer=answer, caller=caller, give_up_ms=give_up_ms)
    callers = {caller for caller, *_ in WHILE_DOWN}
    cdr_callers = {row.split(",")[1].strip('"') for row in new_rows(master, offset, callers)}
    assert cdr_callers == callers

    second = start_listener(tmp_path, master)
    try:
        wait_for_listener_login()
        with Store.open(database) as store:
            wait_until(lambda: cdr_callers <= {c.caller for c in store.calls()}, FILL_WAIT_SECONDS)
            calls = {call.caller: call for call in store.calls()}
            gaps = store.gaps()
            fills = store.gap_fills()
        code, _, stderr = stopped(second)
    finally:
        second.kill()

    assert calls["+441382000190"].gap_note is None  # seen live, kept as seen
    for caller in cdr_callers:
        assert calls[caller].gap_note.startswith("imported from Asterisk CDR Master.csv, line")
    assert calls["+441382000191"].outcome is CallOutcome.ANSWERED
    assert calls["+441382000192"].outcome is CallOutcome.ABANDONED
    assert calls["+441382000193"].outcome is CallOutcome.VOICEMAIL  # 2004: busy -> voicemail
    down = [gap for gap in gaps if gap.reason is GapReason.LISTENER_DOWN]
    assert len(down) == 1
    assert [(f.gap_started_at, f.source) for f in fills] == [(down[0].started_at, "Master.csv")]
    assert fills[0].calls_imported >= len(cdr_callers)
    assert "filled gap " in stderr and "from CDR" in stderr
    assert not any(caller in stderr for caller in callers)  # none at INFO
    assert code == 0, stderr
