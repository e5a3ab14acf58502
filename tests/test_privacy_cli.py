"""`ringtest privacy retain`, `forget` and `subject-access` as a person runs them, and the
modes of the files ringtest writes (a fresh data directory under XDG_DATA_HOME)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ami_listener.recording import Recorder
from ringtest.core.records import CallbackStatus
from ringtest.services.pseudonyms import read_key
from ringtest.store import Store
from tests.store.builders import call_record, obligation

ROOT = Path(__file__).parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "ami" / "busy_line.ami"
NUMBER = "+441632960001"
OTHER = "+441632960002"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def data_home(tmp_path: Path) -> Path:
    return tmp_path / "xdg"


def ringtest(data_home: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    """Run ringtest with its data directory (so database, key and recordings) in `data_home`,
    and any further environment `variables`."""
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("RINGTEST_")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**environment, "XDG_DATA_HOME": str(data_home), **variables},
    )  # fmt: skip


def test_a_command_makes_the_data_directory_0700_and_the_database_0600(data_home: Path):
    assert ringtest(data_home, "replay", str(FIXTURE)).returncode == 0
    done = ringtest(data_home, "privacy", "retain")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "pseudonymised the callers of 0 calls and 0 callback obligations; deleted 0 calls, "
        "0 callback obligations, 0 unmatched inbound calls, 0 evidence recordings and 0 AMI "
        "recordings or journals"
    ]
    data = data_home / "ringtest"
    assert mode(data) == 0o700
    assert mode(data / "ringtest.db") == 0o600


def test_with_group_access_the_group_shares_the_data_but_never_the_pseudonym_key(
    data_home: Path,
):
    fill(data_home)
    (data_home / "ringtest" / "ringtest.db").chmod(0o600)
    shared = {"RINGTEST_PRIVACY__GROUP_ACCESS": "true"}
    assert ringtest(data_home, "replay", str(FIXTURE), **shared).returncode == 0
    done = ringtest(data_home, "privacy", "retain", **shared)
    assert done.returncode == 0, done.stderr
    data = data_home / "ringtest"
    assert mode(data) == 0o770
    assert mode(data / "pseudonym.key") == 0o600
    assert mode(data / "ringtest.db") == 0o600, "an existing database keeps its mode"
    new = data_home / "new.db"
    assert ringtest(data_home, "replay", str(FIXTURE), RINGTEST_DB=f"sqlite:///{new}",
                    **shared).returncode == 0  # fmt: skip
    assert mode(new) == 0o660


def test_an_existing_data_directory_is_made_0700(data_home: Path):
    (data_home / "ringtest").mkdir(parents=True)
    (data_home / "ringtest").chmod(0o755)
    assert ringtest(data_home, "replay", str(FIXTURE)).returncode == 0
    assert ringtest(data_home, "privacy", "retain").returncode == 0
    assert mode(data_home / "ringtest") == 0o700


def test_a_database_opened_in_process_is_0600_whatever_the_umask(tmp_path: Path):
    previous = os.umask(0o022)
    try:
        Store.open(f"sqlite:///{tmp_path / 'new' / 'ringtest.db'}").close()
    finally:
        os.umask(previous)
    assert mode(tmp_path / "new") == 0o700
    assert mode(tmp_path / "new" / "ringtest.db") == 0o600


def test_an_ami_recording_is_0600_whatever_the_umask(tmp_path: Path):
    previous = os.umask(0o022)
    try:
        recorder = Recorder(tmp_path / "listener.ami")
        recorder.write(datetime.now(UTC), b"Event: FullyBooted\r\n\r\n")
        recorder.close()
    finally:
        os.umask(previous)
    assert mode(tmp_path / "listener.ami") == 0o600


def fill(data_home: Path) -> None:
    """An old, called-back call of NUMBER and an old call of OTHER still owed a callback."""
    started = datetime.now(UTC) - timedelta(days=120)
    closed = started + timedelta(hours=1)
    with Store.open(f"sqlite:///{data_home / 'ringtest' / 'ringtest.db'}") as store:
        store.save_calls([
            call_record(call_id="c1", caller=NUMBER, started_at=started),
            call_record(call_id="c2", caller=OTHER, started_at=started),
        ])  # fmt: skip
        store.save_obligation(
            obligation(call_id="c1", caller=NUMBER, missed_at=started, closed_at=closed)
        )
        store.save_obligation(
            obligation(call_id="c2", caller=OTHER, missed_at=started,
                       status=CallbackStatus.OPEN, closed_at=None)
        )  # fmt: skip


def test_retain_pseudonymises_with_a_new_private_key_then_finds_nothing_to_do(data_home: Path):
    fill(data_home)
    first = ringtest(data_home, "privacy", "retain")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "pseudonymised the callers of 1 calls and 1 callback obligations; deleted 0 calls, "
        "0 callback obligations, 0 unmatched inbound calls, 0 evidence recordings and 0 AMI "
        "recordings or journals"
    ]
    key_file = data_home / "ringtest" / "pseudonym.key"
    assert mode(key_file) == 0o600 and read_key(key_file) is not None
    again = ringtest(data_home, "privacy", "retain")
    assert again.stdout.startswith("pseudonymised the callers of 0 calls and 0 callback")


def test_subject_access_and_forget_find_the_number_in_any_format_and_its_pseudonym(
    data_home: Path,
):
    fill(data_home)
    assert ringtest(data_home, "privacy", "retain").returncode == 0
    recordings = data_home / "ringtest" / "recordings"
    recordings.mkdir()
    (recordings / "day.ami").write_bytes(b"CallerIDNum: 01632960001\r\n\r\n")
    access = ringtest(data_home, "subject-access", "0044 1632 960001")
    assert access.returncode == 0, access.stderr
    held = json.loads(access.stdout)
    anon = held["pseudonym"]
    assert anon.startswith("anon:") and held["number"] == NUMBER
    assert [(call["call_id"], call["caller"]) for call in held["calls"]] == [("c1", anon)]
    assert [o["call_id"] for o in held["callback_obligations"]] == ["c1"]
    assert held["ami_recordings"] == [str(recordings / "day.ami")]
    assert OTHER not in access.stdout
    forgot = ringtest(data_home, "forget", "01632 960001")
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.splitlines() == [
        f"forgot {NUMBER} and its pseudonym {anon}:",
        "deleted 1 calls, 1 callback obligations, 0 ring tests and 0 callback tests",
        "deleted 0 evidence recordings",
        "overwrote the number with X in 1 AMI recordings or journals (kept: they hold other "
        "callers)",
        f"  {recordings / 'day.ami'}",
    ]
    assert (recordings / "day.ami").read_bytes() == b"CallerIDNum: XXXXXXXXXXX\r\n\r\n"
    after = json.loads(ringtest(data_home, "subject-access", NUMBER).stdout)
    assert after["calls"] == after["callback_obligations"] == after["ami_recordings"] == []
    other = json.loads(ringtest(data_home, "subject-access", OTHER).stdout)
    assert [call["caller"] for call in other["calls"]] == [OTHER]


def test_a_number_that_is_not_one_is_one_line(data_home: Path):
    done = ringtest(data_home, "forget", "call me")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "ringtest: Invalid value for NUMBER: 'call me' is not a phone number: write it like "
        "01632 960001 or +441632960001 (see `ringtest forget --help`)"
    ]
