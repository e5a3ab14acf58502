"""Retention and subject rights against both real databases: what is pseudonymised,
deleted, found and erased, and that a second run changes nothing."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from ringtest.config import Settings
from ringtest.core.records import (
    CallbackStatus,
    CallbackTest,
    GreetingAudit,
    Heard,
    UnmatchedInboundCall,
)
from ringtest.services import subject_rights
from ringtest.services.host import DaemonHost
from ringtest.services.pseudonyms import key_for_pseudonyms, pseudonym
from ringtest.services.retention import (
    RetentionService,
    RetentionSummary,
    apply_retention,
    months_before,
)
from ringtest.services.subject_rights import Subject, forget, subject_access
from ringtest.store import Store
from tests.conftest import wait_until
from tests.store.builders import MONDAY_9AM, call_record, obligation, ring_test_result

NUMBER = "+441632960001"
OTHER = "+441632960002"
NOW = MONDAY_9AM + timedelta(days=100)
NOTHING = RetentionSummary(0, 0, 0, 0, 0, 0, 0)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Default retention, the data directory and the key in tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return Settings.model_validate({"privacy": {"key_file": str(tmp_path / "keys" / "key")}})


def key_of(settings: Settings) -> bytes:
    return key_for_pseudonyms(settings.privacy.key_path())


def age(path: Path, days: float) -> Path:
    """Set `path`'s modification time `days` before NOW."""
    moment = (NOW - timedelta(days=days)).timestamp()
    os.utime(path, (moment, moment))
    return path


def test_a_closed_obligation_older_than_n_days_is_pseudonymised_and_an_open_one_not(
    store: Store, settings: Settings
):
    store.save_calls([
        call_record(call_id="old", caller=NUMBER),
        call_record(call_id="owed", caller=OTHER),
        call_record(call_id="recent", caller=NUMBER, started_at=NOW - timedelta(days=10)),
        call_record(call_id="withheld", caller=""),
    ])  # fmt: skip
    store.save_obligation(obligation(call_id="old", caller=NUMBER))
    store.save_obligation(
        obligation(call_id="owed", caller=OTHER, status=CallbackStatus.OPEN, closed_at=None)
    )
    first = apply_retention(settings, store, NOW)
    assert first == RetentionSummary(1, 1, 0, 0, 0, 0, 0)
    anon = pseudonym(key_of(settings), NUMBER)
    assert anon.startswith("anon:") and len(anon) == len("anon:") + 16
    callers = {call.call_id: call.caller for call in store.calls()}
    assert callers == {"old": anon, "owed": OTHER, "recent": NUMBER, "withheld": ""}
    assert {o.call_id: o.caller for o in store.obligations()} == {"old": anon, "owed": OTHER}
    assert apply_retention(settings, store, NOW) == NOTHING


def test_a_repeat_caller_gets_the_same_pseudonym_in_a_later_run(store: Store, settings: Settings):
    store.save_calls([call_record(call_id="first", caller=NUMBER)])
    apply_retention(settings, store, NOW)
    store.save_calls([call_record(call_id="second", caller=NUMBER, started_at=NOW)])
    assert apply_retention(settings, store, NOW + timedelta(days=91)).calls_pseudonymised == 1
    first, second = store.calls()
    assert first.caller == second.caller == pseudonym(key_of(settings), NUMBER)


def test_the_pseudonym_is_keyed_and_the_key_file_private(tmp_path: Path, settings: Settings):
    key = key_of(settings)
    key_file = settings.privacy.key_path()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert key_of(settings) == key
    other_key = key_for_pseudonyms(tmp_path / "other.key")
    assert other_key != key
    assert pseudonym(other_key, NUMBER) != pseudonym(key, NUMBER)
    assert pseudonym(key, NUMBER) != pseudonym(key, OTHER)


def test_call_rows_older_than_n_months_are_deleted_with_their_obligations(
    store: Store, settings: Settings
):
    now = MONDAY_9AM.replace(year=2026, month=3, day=31)
    cutoff = months_before(now, 13)
    assert cutoff == MONDAY_9AM.replace(year=2025, month=2, day=28)
    store.save_calls([
        call_record(call_id="gone", started_at=cutoff - timedelta(seconds=1)),
        call_record(call_id="kept", started_at=cutoff),
    ])  # fmt: skip
    store.save_obligation(obligation(call_id="gone", missed_at=cutoff - timedelta(seconds=1)))
    summary = apply_retention(settings, store, now)
    assert (summary.calls_deleted, summary.obligations_deleted) == (1, 1)
    assert [call.call_id for call in store.calls()] == ["kept"]
    assert store.obligations() == []
    assert apply_retention(settings, store, now) == NOTHING


def test_unmatched_inbound_calls_older_than_the_call_retention_are_deleted(
    store: Store, settings: Settings
):
    now = MONDAY_9AM.replace(year=2026, month=3, day=31)
    cutoff = months_before(now, settings.privacy.call_retention_months)
    store.save_unmatched_calls([
        UnmatchedInboundCall("town-hall", "gone", "441632960999", cutoff - timedelta(seconds=1)),
        UnmatchedInboundCall("town-hall", "kept", "441632960999", cutoff),
    ])  # fmt: skip
    assert apply_retention(settings, store, now).unmatched_calls_deleted == 1
    assert [number.calls for number in store.unmatched_numbers(cutoff, now)] == [1]
    assert store.unmatched_numbers(cutoff - timedelta(days=1), cutoff) == []
    assert apply_retention(settings, store, now) == NOTHING


def test_old_evidence_and_recordings_are_deleted_and_recent_ones_kept(
    store: Store, settings: Settings, tmp_path: Path
):
    data = tmp_path / "xdg" / "ringtest"
    (data / "evidence").mkdir(parents=True)
    (data / "recordings").mkdir()
    (data / "journal").mkdir()
    old_wav, new_wav = tmp_path / "rt-old.wav", tmp_path / "rt-new.wav"
    old_wav.touch()
    new_wav.touch()
    store.save_ring_test(ring_test_result(test_id="rt-old", evidence_path=str(old_wav)))
    store.save_ring_test(
        ring_test_result(test_id="rt-new", placed_at=NOW, evidence_path=str(new_wav))
    )
    for test_id in ("rt-old", "rt-new"):
        store.save_greeting_audit(
            GreetingAudit(test_id, "hello council tax sam speaking", Heard.YES, Heard.YES, NOW)
        )
    for name, days in (("evidence/orphan.wav", 91), ("evidence/fresh.wav", 89),
                       ("recordings/old.ami", 31), ("recordings/new.ami", 29),
                       ("journal/0001.journal", 31)):  # fmt: skip
        (data / name).touch()
        age(data / name, days)
    summary = apply_retention(settings, store, NOW)
    assert (summary.evidence_deleted, summary.recordings_deleted) == (2, 2)
    assert not old_wav.exists() and new_wav.exists()
    left = sorted(str(path.relative_to(data)) for path in data.rglob("*") if path.is_file())
    assert left == ["evidence/fresh.wav", "recordings/new.ami"]
    tests = {test.test_id: test.evidence_path for test in store.ring_tests()}
    assert tests == {"rt-old": None, "rt-new": str(new_wav)}
    assert store.greeting_audit("rt-old") is None and store.greeting_audit("rt-new") is not None
    assert apply_retention(settings, store, NOW) == NOTHING


def fill_two_callers(store: Store, settings: Settings, tmp_path: Path) -> Path:
    """Rows of NUMBER (one pseudonymised) and OTHER in every table; NUMBER's ring test
    has an evidence WAV."""
    anon = pseudonym(key_of(settings), NUMBER)
    wav = tmp_path / "rt-1.wav"
    wav.write_bytes(b"RIFF")
    store.save_calls([
        call_record(call_id="c1", caller=NUMBER),
        call_record(call_id="c2", caller=anon),
        call_record(call_id="c3", caller=OTHER),
    ])  # fmt: skip
    store.save_obligation(obligation(call_id="c1", caller=NUMBER))
    store.save_obligation(obligation(call_id="c3", caller=OTHER))
    store.save_ring_test(ring_test_result(test_id="rt-1", target=NUMBER, evidence_path=str(wav)))
    store.save_ring_test(ring_test_result(test_id="rt-2", target=OTHER, evidence_path=None))
    for test_id, number in (("rt-1", NUMBER), ("rt-2", OTHER)):
        store.save_callback_test(
            CallbackTest(test_id=test_id, account="tester-1", target="+441632960100",
                         department="reception", callback_number=number, reference="R1",
                         left_at=MONDAY_9AM, deadline_at=MONDAY_9AM + timedelta(hours=8))
        )  # fmt: skip
    return wav


def test_subject_access_holds_every_record_of_the_number_and_nothing_of_another(
    store: Store, settings: Settings, tmp_path: Path
):
    wav = fill_two_callers(store, settings, tmp_path)
    subject = Subject.of(settings, NUMBER)
    held = subject_access(settings, store, subject)
    assert held["number"] == NUMBER and held["pseudonym"] == pseudonym(key_of(settings), NUMBER)
    assert [call["call_id"] for call in held["calls"]] == ["c1", "c2"]
    assert [o["call_id"] for o in held["callback_obligations"]] == ["c1"]
    assert [test["test_id"] for test in held["ring_tests"]] == ["rt-1"]
    assert [test["test_id"] for test in held["callback_tests"]] == ["rt-1"]
    assert held["evidence_recordings"] == [str(wav)]
    assert held["calls"][0]["started_at"] == MONDAY_9AM.isoformat()
    assert OTHER not in json.dumps(held)


def test_forget_erases_every_record_of_the_number_and_says_what(
    store: Store, settings: Settings, tmp_path: Path
):
    wav = fill_two_callers(store, settings, tmp_path)
    subject = Subject.of(settings, NUMBER)
    erasure = forget(settings, store, subject)
    assert erasure.lines(subject) == [
        f"forgot {NUMBER} and its pseudonym {subject.pseudonym}:",
        "deleted 2 calls, 1 callback obligations, 1 ring tests and 1 callback tests",
        "deleted 1 evidence recordings",
        f"  {wav}",
        "overwrote the number with X in 0 AMI recordings or journals (kept: they hold other "
        "callers)",
    ]
    assert not wav.exists()
    assert [call.call_id for call in store.calls()] == ["c3"]
    assert [o.call_id for o in store.obligations()] == ["c3"]
    assert [test.test_id for test in store.ring_tests()] == ["rt-2"]
    assert [test.test_id for test in store.callback_tests()] == ["rt-2"]
    held = subject_access(settings, store, subject)
    assert [held[name] for name in ("calls", "callback_obligations", "ring_tests")] == [[]] * 3
    assert forget(settings, store, subject).rows == replace(erasure.rows, calls=0,
        callback_obligations=0, ring_tests=0, callback_tests=0)  # fmt: skip


@pytest.mark.parametrize("block_bytes", [1024 * 1024, 5, 13])
def test_forget_overwrites_the_number_in_recordings_in_any_format_across_blocks(
    store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    block_bytes: int,
):  # fmt: skip
    monkeypatch.setattr(subject_rights, "SCAN_BLOCK_BYTES", block_bytes)
    recordings = tmp_path / "xdg" / "ringtest" / "recordings"
    recordings.mkdir(parents=True)
    text = (
        b"CallerIDNum: 01632960001\r\n\r\nCallerIDNum: +441632960001\r\n\r\n"
        b"CallerIDNum: 00441632960001\r\n\r\nCallerIDNum: 01632960002\r\n\r\n"
    )
    (recordings / "a.ami").write_bytes(text)
    (recordings / "b.ami").write_bytes(b"CallerIDNum: 01632960002\r\n\r\n")
    subject = Subject.of(settings, NUMBER)
    assert subject_access(settings, store, subject)["ami_recordings"] == [str(recordings / "a.ami")]
    erasure = forget(settings, store, subject)
    assert erasure.recordings_redacted == [recordings / "a.ami"]
    assert (recordings / "a.ami").read_bytes() == (
        b"CallerIDNum: XXXXXXXXXXX\r\n\r\nCallerIDNum: +XXXXXXXXXXXX\r\n\r\n"
        b"CallerIDNum: 00XXXXXXXXXXXX\r\n\r\nCallerIDNum: 01632960002\r\n\r\n"
    )
    assert subject_access(settings, store, subject)["ami_recordings"] == []


def test_the_daemon_applies_retention_at_start_and_keeps_running_after_a_failed_run(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
):
    store.save_calls([call_record(call_id="old", caller=NUMBER)])
    store.save_obligation(obligation(call_id="old", caller=NUMBER))
    instants = iter([NOW, "not an instant", NOW])
    service = RetentionService(settings, store, clock=lambda: next(instants), every_seconds=0.01)
    host = DaemonHost([service])
    host.start()
    wait_until(lambda: service.runs >= 3, seconds=10.0)
    host.stop()
    assert host.failures == {}
    assert [call.caller for call in store.calls()] == [pseudonym(key_of(settings), NUMBER)]
    failed = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(failed) == 1 and failed[0].startswith("retention did not run: ")
    assert NUMBER not in caplog.text
