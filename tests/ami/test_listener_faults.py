"""`ringtest listen` as a real process against faults: kill -9, SIGTERM while the database
is locked, a journal that cannot be written, a read-only database.

The PBX is the fake AMI of tests/ami/fake_ami.py on its own thread; the database is a
real SQLite file, locked by this test (an exclusive transaction) to stand for a store
outage. Every call pushed must be stored exactly once after the restart.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from ringtest.core.records import CallOutcome
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store
from tests.ami.fake_ami import FakeAmi
from tests.ami.test_journal import numbered_calls
from tests.conftest import wait_until

ROOT = Path(__file__).parents[2]
STOP_WITHIN_SECONDS = 10.0


class FakeAmiThread:
    """The fake AMI served from its own thread and event loop."""

    def __enter__(self) -> FakeAmiThread:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = self._run(FakeAmi().start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._run(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    def push(self, stream: bytes) -> None:
        self.loop.call_soon_threadsafe(self.fake.push, stream)

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)


def start_listener(fake: FakeAmiThread, tmp_path: Path, **popen_options) -> subprocess.Popen:
    env = {
        **os.environ,
        "RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db",
        "RINGTEST_AMI__PORT": str(fake.fake.port),
        "RINGTEST_AMI__SECRET": "right",
        "RINGTEST_AMI__JOURNAL_DIR": str(tmp_path / "journal"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen_options,
    )


def journalled_bytes(tmp_path: Path) -> int:
    return sum(path.stat().st_size for path in (tmp_path / "journal").glob("*.ami"))


def locked(tmp_path: Path) -> sqlite3.Connection:
    """Hold the database's write lock, as a long transaction elsewhere would."""
    connection = sqlite3.connect(tmp_path / "ringtest.db", isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def stopped(daemon: subprocess.Popen) -> tuple[int, float, str]:
    """SIGTERM `daemon`: its exit code, the seconds it took, and its stderr."""
    began = time.monotonic()
    daemon.send_signal(signal.SIGTERM)
    _, stderr = daemon.communicate(timeout=30)
    return daemon.returncode, time.monotonic() - began, stderr


def stored_calls(tmp_path: Path) -> list:
    with Store.open(f"sqlite:///{tmp_path}/ringtest.db") as store:
        return store.calls()


def test_killed_listener_stores_every_received_call_exactly_once_at_its_next_start(tmp_path):
    calls = numbered_calls(31)
    one_call = len(calls) // 31
    with FakeAmiThread() as fake:
        first = start_listener(fake, tmp_path)
        wait_until(lambda: fake.fake.logins == 1, 20.0, "the listener did not log in")
        database_lock = locked(tmp_path)
        fake.push(calls[: 30 * one_call + one_call // 2])
        wait_until(lambda: journalled_bytes(tmp_path) > 30 * one_call, 20.0)
        first.kill()
        first.wait()
        database_lock.rollback()
        database_lock.close()

        second = start_listener(fake, tmp_path)
        wait_until(lambda: fake.fake.logins == 2, 20.0, "the restarted listener did not log in")
        code, _, stderr = stopped(second)

    by_outcome: dict[CallOutcome, list] = {}
    for call in stored_calls(tmp_path):
        by_outcome.setdefault(call.outcome, []).append(call)
    assert len(by_outcome[CallOutcome.ANSWERED]) == 30
    [cut] = by_outcome[CallOutcome.INCOMPLETE]
    assert cut.gap_note.startswith("listener stopped at ")
    assert code == 0, stderr


def test_sigterm_while_the_database_is_locked_exits_in_time_and_the_next_start_stores_it(
    tmp_path,
):
    with FakeAmiThread() as fake:
        first = start_listener(fake, tmp_path)
        wait_until(lambda: fake.fake.logins == 1, 20.0, "the listener did not log in")
        database_lock = locked(tmp_path)
        fake.push(numbered_calls(20))
        wait_until(lambda: journalled_bytes(tmp_path) > len(numbered_calls(20)), 20.0)
        code, seconds, stderr = stopped(first)
        database_lock.rollback()
        database_lock.close()
        assert stored_calls(tmp_path) == []

        second = start_listener(fake, tmp_path)
        wait_until(lambda: fake.fake.logins == 2, 20.0, "the restarted listener did not log in")
        stopped(second)

    assert seconds < STOP_WITHIN_SECONDS
    assert code == 0, stderr
    assert "unstored" in stderr
    assert [call.outcome for call in stored_calls(tmp_path)] == [CallOutcome.ANSWERED] * 20


def limit_file_size() -> None:
    """In the child: files may not grow past 512 KiB (writes past it fail with EFBIG, and
    the journal goes on in a second segment)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))


def test_listener_whose_journal_cannot_be_written_exits_non_zero_naming_it(tmp_path):
    with FakeAmiThread() as fake:
        daemon = start_listener(fake, tmp_path, preexec_fn=limit_file_size)
        wait_until(lambda: fake.fake.logins == 1, 20.0, "the listener did not log in")
        fake.push(numbered_calls(12))
        wait_until(lambda: len(list((tmp_path / "journal").glob("*.ami"))) == 2, 20.0)
        code, seconds, stderr = stopped(daemon)

    assert seconds < STOP_WITHIN_SECONDS
    assert code == 1
    last_line = stderr.splitlines()[-1]
    assert last_line.startswith("ringtest: ")
    assert f"could not be written to the journal in {tmp_path / 'journal'}" in last_line
    assert "Traceback" not in stderr
