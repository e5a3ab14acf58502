"""The fault bench's harness: `ringtest listen` as a real process with its own scratch
store and journal, a watch on what it stored, and the lab's AMI sessions.

`Trial` starts, restarts and stops the listener (its output in a log file per
start) and keeps the outages, exit codes and notes of one row; `StoreWatch` reads
the row's calls every `POLL_SECONDS` and remembers the most each was ever known by,
so that a later write holding less is seen as a downgrade.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.lab_traffic import cdr_path
from ringtest.core.records import AnsweredBy, CallRecord
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 1.0
LOGIN_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0
TMPFS_MEGABYTES = 24


@dataclass(frozen=True)
class Outage:
    """No listener process ran from `began` (killed or stopped) to `restarted` (the next
    one started); it saw the PBX again by `resynced` (its session listed). UTC."""

    began: datetime
    restarted: datetime
    resynced: datetime


@dataclass
class Trial:
    """One row's listener process, scratch store and journal, and what happened to them."""

    work: Path
    caller: str
    listener: subprocess.Popen | None = None
    started_at: datetime | None = None
    exit_codes: list[int] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    log_files: list[Path] = field(default_factory=list)

    @property
    def database(self) -> Path:
        return self.work / "ringtest.db"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RINGTEST_DB": f"sqlite:///{self.database}",
            "RINGTEST_AMI__JOURNAL_DIR": str(self.work / "journal"),
            "RINGTEST_HISTORY__CDR_FILE": str(cdr_path()),
        }

    def start_listener(self) -> None:
        """Start `ringtest listen` and wait until Asterisk lists its AMI session."""
        self.started_at = datetime.now(UTC)
        wait_for(lambda: listener_sessions() == 0, LOGIN_TIMEOUT_SECONDS)
        log_file = self.work / f"listener-{len(self.log_files) + 1}.log"
        self.log_files.append(log_file)
        with log_file.open("w") as output:
            self.listener = subprocess.Popen(
                [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
                cwd=ROOT,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if not wait_for(lambda: listener_sessions() > 0, LOGIN_TIMEOUT_SECONDS):
            raise RuntimeError(f"the listener did not log in: see {log_file}")

    def restart_listener(self, began: datetime) -> None:
        """Start a new listener after an outage that began at `began`; note the outage."""
        self.start_listener()
        assert self.started_at is not None
        self.outages.append(Outage(began, self.started_at, datetime.now(UTC)))

    def stop_listener(self) -> float:
        """SIGTERM the listener; records its exit code and returns the seconds it took."""
        assert self.listener is not None
        began = time.monotonic()
        self.listener.send_signal(signal.SIGTERM)
        try:
            self.exit_codes.append(self.listener.wait(STOP_TIMEOUT_SECONDS))
        except subprocess.TimeoutExpired:
            self.listener.kill()
            self.exit_codes.append(self.listener.wait())
            self.notes.append(f"did not stop within {STOP_TIMEOUT_SECONDS:g} s of SIGTERM")
        return time.monotonic() - began

    def log_count(self, text: str) -> int:
        """Lines of the listener's logs containing `text`."""
        return sum(path.read_text(errors="replace").count(text) for path in self.log_files)

    def gaps(self) -> list[dict]:
        """`ringtest gaps --format json` of the row's store."""
        done = subprocess.run(
            [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "gaps"]
            + ["--format", "json"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)


class StoreWatch:
    """Reads the row's calls every second, remembering the most each call was known by."""

    def __init__(self, trial: Trial) -> None:
        self.trial = trial
        self.best: dict[str, CallRecord] = {}
        self.forgotten: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> StoreWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def read(self) -> dict[str, CallRecord]:
        """The row's stored calls now, each compared with what was known before."""
        with Store.open(f"sqlite:///{self.trial.database}") as store:
            records = {c.call_id: c for c in store.calls() if c.caller == self.trial.caller}
        for call_id, record in records.items():
            earlier = self.best.get(call_id)
            if earlier is not None and knowledge(record) < knowledge(earlier):
                self.forgotten.add(call_id)
            if earlier is None or knowledge(record) > knowledge(earlier):
                self.best[call_id] = record
        return records

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.read()
            except Exception:  # a locked, full or unreadable store is the fault itself
                continue


def knowledge(record: CallRecord) -> tuple[bool, bool, bool]:
    """What a record knows (answered by a person, its answer time, its ring time): a
    later write holding less of it is a downgrade."""
    return (
        record.answered_by is AnsweredBy.PERSON,
        record.answered_at is not None,
        record.ring_seconds is not None,
    )


@contextmanager
def tmpfs_directory() -> Iterator[Path]:
    """A scratch directory on its own small tmpfs, so that it can be filled."""
    with scratch_directory() as work:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MEGABYTES}m,mode=0700", "tmpfs", work],
            check=True,
        )
        try:
            yield Path(work)
        finally:
            subprocess.run(["umount", "-l", work], check=True)


@contextmanager
def scratch_directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-faults-") as work:
        yield Path(work)


def listener_sessions() -> int:
    """AMI sessions of the lab's `listener` user that Asterisk lists."""
    lines = asterisk("manager show connected").splitlines()
    return sum(line.split()[:1] == ["listener"] for line in lines)


def asterisk(command: str) -> str:
    rootfs = rootfs_path(default_lab_dir())
    done = subprocess.run(
        ["chroot", str(rootfs), "asterisk", "-rx", command], capture_output=True, text=True
    )
    return done.stdout


def wait_for(condition: Callable[[], bool], timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
