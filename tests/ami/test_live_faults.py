"""Short lab versions of bench/faults.py's store-stall and SIGTERM rows: `ringtest listen` as
a real process on the lab PBX, sipp calls while its SQLite database is locked (an
exclusive transaction held by this test), every call in Asterisk's CDR then stored,
none lost and none downgraded. (The kill -9 row is tests/ami/test_live_kill.py.)
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from bench.lab_traffic import CdrCall, cdr_calls, cdr_path, matches, place_calls
from ringtest.core.records import AnsweredBy
from ringtest.store import Store
from tests.ami.test_listener_faults import STOP_WITHIN_SECONDS, stopped
from tests.ami.test_live_kill import journal_caught_up, start_listener
from tests.conftest import wait_until
from tests.test_cli import wait_for_listener_login

pytestmark = pytest.mark.lab

RATE_PER_SECOND, CALLS = 5, 20
STALL_SECONDS = 12.0


def locked(database: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def calls_of(database: Path, caller: str) -> list:
    with Store.open(f"sqlite:///{database}") as store:
        return [call for call in store.calls() if call.caller == caller]


def every_cdr_call_stored(database: Path, from_byte: int, caller: str) -> dict[str, CdrCall]:
    """The CDR's calls of `caller`, once as many as sipp placed are there and all stored."""

    def settled() -> dict[str, CdrCall] | None:
        truth = cdr_calls(cdr_path(), from_byte, caller)
        stored = {call.call_id for call in calls_of(database, caller)}
        return truth if len(truth) == CALLS and set(truth) <= stored else None

    return wait_until(settled, 60.0, "the CDR's calls were not all stored")


def assert_none_lost_or_downgraded(database: Path, truth: dict[str, CdrCall], caller: str):
    calls = calls_of(database, caller)
    by_id = {call.call_id: call for call in calls}
    assert len(calls) == len(by_id) == len(truth) == CALLS
    differing = [
        (cdr, by_id[uniqueid])
        for uniqueid, cdr in truth.items()
        if not matches(by_id[uniqueid], cdr)
    ]
    assert differing == [], "stored calls that differ from the CDR (cdr, stored)"
    answered = [by_id[uniqueid] for uniqueid, cdr in truth.items() if cdr.answered]
    assert answered and all(call.answered_by is AnsweredBy.PERSON for call in answered)


def test_calls_made_while_the_store_is_locked_are_all_stored_once_it_is_free(lab, tmp_path):
    caller, database = "+441382000163", tmp_path / "ringtest.db"
    listener = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        from_byte = cdr_path().stat().st_size
        lock = locked(database)
        began = time.monotonic()
        ok, failed, error = place_calls(RATE_PER_SECOND, CALLS, caller)
        assert (ok, failed) == (CALLS, 0), error
        time.sleep(max(STALL_SECONDS - (time.monotonic() - began), 0.0))
        assert calls_of(database, caller) == []
        lock.rollback()
        lock.close()
        truth = every_cdr_call_stored(database, from_byte, caller)
        code, _, stderr = stopped(listener)
    finally:
        listener.kill()
    assert code == 0, stderr
    assert_none_lost_or_downgraded(database, truth, caller)


def test_sigterm_during_a_store_outage_exits_in_time_and_the_next_start_stores_every_call(
    lab, tmp_path
):
    caller, database = "+441382000164", tmp_path / "ringtest.db"
    first = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        from_byte = cdr_path().stat().st_size
        lock = locked(database)
        ok, failed, error = place_calls(RATE_PER_SECOND, CALLS, caller)
        assert (ok, failed) == (CALLS, 0), error
        wait_until(lambda: len(cdr_calls(cdr_path(), from_byte, caller)) == CALLS, 20.0)
        journal_caught_up(tmp_path)
        code, seconds, stderr = stopped(first)
        lock.rollback()
        lock.close()
    finally:
        first.kill()
    assert seconds < STOP_WITHIN_SECONDS
    assert code == 0, stderr
    assert calls_of(database, caller) == []

    second = start_listener(tmp_path)
    try:
        wait_for_listener_login()
        truth = every_cdr_call_stored(database, from_byte, caller)
        second_code, _, second_stderr = stopped(second)
    finally:
        second.kill()
    assert second_code == 0, second_stderr
    assert_none_lost_or_downgraded(database, truth, caller)
