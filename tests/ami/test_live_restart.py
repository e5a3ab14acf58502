"""Asterisk restarted mid-call: the listener reconnects, the call in flight is
stored as incomplete with the gap noted, the interval it could not see is stored
as a gap told apart as a PBX restart, and later calls are measured normally.

Two ways a PBX goes away: a clean restart (`core restart now`: Asterisk hangs
every channel up first, with soft-hangup reason "shutdown") and a crash
(SIGKILL: the events just stop). This restarts the shared lab Asterisk, so it
runs last among the live AMI tests and leaves the lab up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from ringtest.config import load_settings
from ringtest.core.records import CallOutcome, GapReason
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import AMI_PORT, LAB_HOST
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.calls import lab_call
from ringtest.lab.pbx import lab_status, lab_up
from ringtest.lab.ports import read_ami_banner
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from tests.conftest import wait_until

pytestmark = pytest.mark.lab

IN_FLIGHT, AFTER = "+441382000161", "+441382000162"


def restart_cleanly() -> None:
    """Asterisk re-executes itself in place; wait until its AMI answers again."""
    asterisk("core restart now")
    wait_until(lambda: read_ami_banner(LAB_HOST, AMI_PORT) is not None)


def crash() -> None:
    """Kill Asterisk outright, then let the lab start a new one."""
    pid = lab_status().pid
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{pid}").exists())
    lab_up()


RESTARTS = {
    "clean restart": (restart_cleanly, "cut off by the PBX shutting down at "),
    "crash": (crash, "AMI link to 127.0.0.1:5038 lost at "),
}


def asterisk(command: str) -> str:
    rootfs = rootfs_path(default_lab_dir())
    done = subprocess.run(
        ["chroot", str(rootfs), "asterisk", "-rx", command], capture_output=True, text=True
    )
    return done.stdout


@pytest.fixture(scope="module", params=list(RESTARTS))
def calls_across_restart(request, lab, tmp_path_factory):
    restart, note = RESTARTS[request.param]
    database = tmp_path_factory.mktemp("restart") / "ringtest.db"
    settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{database}"})
    stream = RecordStream()
    with Store.open(settings.store_url()) as store:
        writer = StoreWriter(store)
        stream.subscribe("store", writer.handle)
        listener = make_listener(settings, store, stream)
        background = BackgroundListener(listener).start()
        try:
            ringing = threading.Thread(
                target=lab_call,
                kwargs=dict(
                    target="2001", answer="never", give_up_ms=15000, caller=IN_FLIGHT, timeout_s=30
                ),
            )
            ringing.start()
            wait_until(lambda: "PJSIP/staff1" in asterisk("core show channels concise"))
            restart()
            wait_until(lambda: listener.connects >= 2)
            lab_call("2001", answer="1000", caller=AFTER)
            wait_until(lambda: any(c.caller == AFTER for c in store.calls()))
            ringing.join()
        finally:
            background.stop()
            writer.close()
        return store.calls(), listener.connects, note, store.gaps()


def test_call_in_flight_during_the_restart_is_incomplete_with_the_gap_noted(calls_across_restart):
    calls, _, note, _ = calls_across_restart
    [cut] = [call for call in calls if call.caller == IN_FLIGHT]
    assert cut.outcome is CallOutcome.INCOMPLETE
    assert cut.gap_note.startswith(note)


def test_listener_reconnected_and_measures_the_next_call(calls_across_restart):
    calls, connects, _, _ = calls_across_restart
    assert connects >= 2
    [after] = [call for call in calls if call.caller == AFTER]
    assert after.outcome is CallOutcome.ANSWERED
    assert after.ring_seconds == pytest.approx(1.0, abs=0.05)


def test_the_cut_call_is_stored_once_not_again_after_the_reconnect(calls_across_restart):
    calls, _, _, _ = calls_across_restart
    assert [call.caller for call in calls].count(IN_FLIGHT) == 1


def test_the_interval_the_listener_could_not_see_is_stored_as_a_pbx_restart(calls_across_restart):
    calls, _, _, gaps = calls_across_restart
    [gap] = gaps
    assert gap.reason is GapReason.PBX_RESTARTED
    [after] = [call for call in calls if call.caller == AFTER]
    assert gap.started_at < gap.ended_at < after.started_at
