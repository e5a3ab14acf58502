"""kill -9 of `ringtest listen` on the lab PBX while calls are placed: at its next start the
gap of its downtime is filled from the lab Asterisk's own CEL (`[history] cel_file`, in
preference to the CDR also set), with the ring times the listener would have measured,
marked as imported, and `ringtest gaps` says so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ringtest.core.records import AnsweredBy, CallOutcome, GapReason
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.calls import lab_call
from ringtest.store import Store
from tests.ami.test_listener_faults import stopped
from tests.ami.test_live_cel import CEL_FILE
from tests.analysis.test_cdr_import import MASTER_CSV
from tests.conftest import wait_until
from tests.test_cli import LAB_CONFIG, ROOT, wait_for_listener_login

pytestmark = pytest.mark.lab

FILL_WAIT_SECONDS = 40.0
"""The first pass runs 5 s after the gap is published; reading the lab's file takes a few."""
TOLERANCE_SECONDS = 0.050
# (caller, extension, X-Lab-Answer, give up after ms): placed while the listener is dead
WHILE_DOWN = (
    ("+441382000194", "2001", "500", 0),
    ("+441382000195", "2002", "never", 2000),
    ("+441382000196", "2004", "busy", 0),
)
# caller: (outcome, answered by, ring seconds: the truth the lab's agents and sipp make)
TRUTH = {
    "+441382000194": (CallOutcome.ANSWERED, AnsweredBy.PERSON, 0.5),
    "+441382000195": (CallOutcome.ABANDONED, AnsweredBy.NONE, 2.0),
    "+441382000196": (CallOutcome.VOICEMAIL, AnsweredBy.VOICEMAIL, None),  # staff7 busy
}


def start_listener(tmp_path: Path) -> subprocess.Popen:
    rootfs = rootfs_path(default_lab_dir())
    return subprocess.Popen(
        [sys.executable, "-m", "ringtest", "-v", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env={
            **os.environ,
            "RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db",
            "RINGTEST_AMI__JOURNAL_DIR": str(tmp_path / "journal"),
            "RINGTEST_STANDARDS__RING_CADENCE": "DE",
            "RINGTEST_HISTORY__CDR_FILE": str(rootfs / MASTER_CSV),
            "RINGTEST_HISTORY__CEL_FILE": str(rootfs / CEL_FILE),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_calls_placed_while_the_listener_was_killed_are_filled_from_the_cel(lab, tmp_path):
    database = f"sqlite:///{tmp_path}/ringtest.db"
    first = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        lab_call("2001", answer="500", caller="+441382000190")
        with Store.open(database) as store:
            wait_until(lambda: any(c.caller == "+441382000190" for c in store.calls()), 20.0)
    finally:
        first.kill()
        first.wait()
    for caller, extension, answer, give_up_ms in WHILE_DOWN:
        lab_call(extension, answer=answer, caller=caller, give_up_ms=give_up_ms)

    second = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        with Store.open(database) as store:
            wait_until(  # the fill stores its calls, then records itself
                lambda: set(TRUTH) <= {c.caller for c in store.calls()} and store.gap_fills(),
                FILL_WAIT_SECONDS,
            )
            calls = {call.caller: call for call in store.calls()}
            gaps = store.gaps()
            fills = store.gap_fills()
        code, _, stderr = stopped(second)
    finally:
        second.kill()

    assert calls["+441382000190"].gap_note is None  # seen live, kept as seen
    for caller, (outcome, answered_by, ring_seconds) in TRUTH.items():
        call = calls[caller]
        assert call.gap_note.startswith("imported from Asterisk CEL Master.csv, line")
        assert (call.outcome, call.answered_by) == (outcome, answered_by)
        if ring_seconds is None:
            assert call.ring_seconds is None
        else:
            assert call.ring_seconds == pytest.approx(ring_seconds, abs=TOLERANCE_SECONDS)
    down = [gap for gap in gaps if gap.reason is GapReason.LISTENER_DOWN]
    assert len(down) == 1
    assert [(f.gap_started_at, f.source) for f in fills] == [(down[0].started_at, "Master.csv")]
    assert fills[0].calls_imported >= len(TRUTH)
    assert "filled gap " in stderr and "from CEL" in stderr
    assert not any(caller in stderr for caller in TRUTH)  # none at INFO
    assert code == 0, stderr
