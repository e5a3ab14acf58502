"""kill -9 of `ringtest listen` on the lab PBX: the calls it had received are stored at its
next start, exactly once (the short lab version of the issue's kill -9 fault row).

The database is locked (an exclusive transaction) while the second call is made, so
that call exists only in the listener's journal when the listener is killed.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ringtest.core.records import CallOutcome
from ringtest.lab.calls import lab_call
from ringtest.store import Store
from tests.ami.test_listener_faults import stopped
from tests.conftest import wait_until
from tests.test_cli import LAB_CONFIG, ROOT, wait_for_listener_login

pytestmark = pytest.mark.lab


def start_listener(tmp_path: Path, config: Path = LAB_CONFIG) -> subprocess.Popen:
    """`ringtest listen` as a process, its database and journal in `tmp_path`."""
    return subprocess.Popen(
        [sys.executable, "-m", "ringtest", "--config", str(config), "listen"],
        cwd=ROOT,
        env={
            **os.environ,
            "RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db",
            "RINGTEST_AMI__JOURNAL_DIR": str(tmp_path / "journal"),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


JOURNAL_QUIET_SECONDS = 1.0
CALLERS = ("+441382000161", "+441382000162")
"""This test's lab citizens (other traffic on the shared lab is not its business)."""


def journal_caught_up(tmp_path: Path, within_seconds: float = 20.0) -> None:
    """Wait until the listener's journal has not grown for `JOURNAL_QUIET_SECONDS`: it has
    read all the PBX sent about the calls just made. Asterisk writes a call's CDR and
    sends its last AMI events in no fixed order, so a listener stopped as soon as the
    CDR is complete may never have heard a call end (its journal cannot hold that)."""

    def size() -> int:
        return sum(path.stat().st_size for path in (tmp_path / "journal").glob("*"))

    last_size, changed_at = size(), time.monotonic()
    deadline = changed_at + within_seconds
    while time.monotonic() - changed_at < JOURNAL_QUIET_SECONDS:
        assert time.monotonic() < deadline, "the listener's journal never stopped growing"
        time.sleep(0.05)
        if (now_size := size()) != last_size:
            last_size, changed_at = now_size, time.monotonic()


def test_listener_killed_then_restarted_stores_every_call_it_received_once(lab, tmp_path):
    database = f"sqlite:///{tmp_path}/ringtest.db"
    first = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        lab_call("2001", answer="500", caller="+441382000161")
        with Store.open(database) as store:
            wait_until(lambda: any(c.caller == "+441382000161" for c in store.calls()), 20.0)
        lock = sqlite3.connect(tmp_path / "ringtest.db", isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        lab_call("2001", answer="500", caller="+441382000162")
        journal_caught_up(tmp_path)
        first.kill()
        first.wait()
        lock.rollback()
        lock.close()
    finally:
        first.kill()

    second = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        code, _, stderr = stopped(second)
    finally:
        second.kill()
    with Store.open(database) as store:
        calls = [call for call in store.calls() if call.caller in CALLERS]
    by_caller = {call.caller: call for call in calls}
    assert len(calls) == len(by_caller) == 2
    assert by_caller["+441382000161"].outcome is CallOutcome.ANSWERED
    assert by_caller["+441382000162"].outcome is CallOutcome.ANSWERED
    assert code == 0, stderr
