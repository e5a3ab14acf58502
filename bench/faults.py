"""Faults: the listener against a slow, full, read-only or absent store, its own death and the
PBX's, on the lab PBX under sipp traffic, counted against Asterisk's CDR.

Each row starts `ringtest listen` as a real process (examples/lab.toml, its own
SQLite store and journal directory in a scratch directory), places calls with sipp
(`bench.lab_traffic`, the row's own lab citizen number), injects its fault a few
seconds into the traffic, undoes it, waits until the CDR's calls are stored, stops
the listener with SIGTERM and counts:

* placed: calls sipp was asked to place; CDR calls: calls Asterisk's CDR wrote;
* stored: records of the row's caller; matched: CDR calls whose record agrees
  (answered or not, answer time within 1 s: `bench.lab_traffic.matches`);
* placed while down: CDR calls that began while no listener process ran or within a
  recorded gap (only the PBX's CDR can know them; they are counted apart from the
  losses, and a call answered in a gap is not counted as downgraded);
* lost: other CDR calls with no record; downgraded: records less known than the CDR
  (answered there, not answered by a person here) or than an earlier read of the
  store held (an answer, an answer time or a ring time gone), polled every second;
* gaps: the coverage gaps stored (`ringtest gaps`), and whether one covers the time
  the listener was down; exit: the listener's exit code(s).

Rates and durations are modest (the lab sustains 40 calls/s with every call in the
CDR matched); ``--quick`` shortens every row.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.lab_traffic import CdrCall, cdr_calls, cdr_path, matches, place_calls
from bench.results import machine_line, quick_mode, table, write_section
from ringtest.core.records import AnsweredBy, CallRecord
from ringtest.lab.accounts import AMI_PORT, LAB_HOST
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.pbx import lab_status, lab_up
from ringtest.lab.ports import read_ami_banner
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store

ROOT = Path(__file__).resolve().parents[1]
FAULT_AFTER_SECONDS = 3.0
"""Traffic runs this long before each fault is injected."""
SETTLE_SECONDS = 60.0
"""How long after the traffic (and the fault) the CDR's calls may take to be stored."""
POLL_SECONDS = 1.0
LOGIN_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 30.0
FIRST_CALLER = 171
"""Row n presents +4413820001(71+n): lab citizen numbers no test or demo uses."""
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


@dataclass(frozen=True)
class Fault:
    """One row: its name, traffic (calls/s for seconds) and how to inject and undo it."""

    name: str
    rate: int
    seconds: int
    inject: Callable[[Trial], None]
    work_dir: Callable[[], AbstractContextManager[Path]] = scratch_directory


@dataclass(frozen=True)
class RowResult:
    fault: Fault
    placed: int
    cdr_calls: int
    stored: int
    matched: int
    lost: int
    downgraded: int
    placed_while_down: int
    gaps: str
    exit_codes: str
    notes: str


def run_row(fault: Fault, caller: str) -> RowResult:
    """Traffic, the fault meanwhile, the calls settled, the listener stopped: the counts."""
    cdr = cdr_path()
    with fault.work_dir() as work:
        trial = Trial(work, caller)
        trial.start_listener()
        from_byte = cdr.stat().st_size
        placed = fault.rate * fault.seconds
        traffic = threading.Thread(target=place_calls, args=(fault.rate, placed, caller))
        with StoreWatch(trial) as watch:
            traffic.start()
            time.sleep(FAULT_AFTER_SECONDS)
            try:
                fault.inject(trial)
            finally:
                traffic.join()
            truth = settled(watch, cdr, from_byte, caller)
            trial.stop_listener()
        records = watch.read()
        gaps = trial.gaps()
        unseen = [(o.began, o.resynced) for o in trial.outages] + [
            (datetime.fromisoformat(g["started_at"]), datetime.fromisoformat(g["ended_at"]))
            for g in gaps
        ]
        down = [c for c in truth.values() if within(c.started_at, unseen)]
        counted = [c for c in truth.values() if c not in down]
        lost = [c for c in counted if c.uniqueid not in records]
        answered_unseen = [c for c in counted if within(c.answered_at, unseen)]
        downgraded = {
            c.uniqueid
            for c in counted
            if c.uniqueid in records
            and c.answered
            and c not in answered_unseen
            and records[c.uniqueid].answered_by is not AnsweredBy.PERSON
        } | (watch.forgotten & set(records))
        if answered_unseen:
            trial.notes.append(
                f"{len(answered_unseen)} placed before a gap were answered in it "
                "(stored incomplete)"
            )
        adopted = sum(c.uniqueid in records for c in down)
        if adopted:
            trial.notes.append(
                f"{adopted} of those placed while down were stored anyway (journal or "
                "resync), as incomplete"
            )
        matched = sum(matches(records.get(c.uniqueid), c) for c in truth.values())
        write_errors = trial.log_count("could not store")
        if write_errors:
            trial.notes.append(f"{write_errors} failed store writes logged")
        return RowResult(
            fault,
            placed,
            len(truth),
            len(records),
            matched,
            len(lost),
            len(downgraded),
            len(down),
            describe_gaps(trial, gaps),
            ", ".join(str(code) for code in trial.exit_codes),
            "; ".join(trial.notes),
        )


def settled(watch: StoreWatch, cdr: Path, from_byte: int, caller: str) -> dict[str, CdrCall]:
    """The row's CDR calls, once each is stored or `SETTLE_SECONDS` passed."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        truth = cdr_calls(cdr, from_byte, caller)
        try:
            stored = set(watch.read())
        except Exception:
            stored = set()
        if set(truth) <= stored or time.monotonic() > deadline:
            return truth
        time.sleep(POLL_SECONDS)


def within(at: datetime | None, intervals: list[tuple[datetime, datetime]]) -> bool:
    """Whether a CDR time (whole seconds) falls in one of `intervals`."""
    return at is not None and any(
        began.replace(microsecond=0) <= at <= ended for began, ended in intervals
    )


def describe_gaps(trial: Trial, gaps: list[dict]) -> str:
    """``1 (listener_down), covers the outage``: the gaps `ringtest gaps` listed."""
    text = f"{len(gaps)}"
    if gaps:
        text += f" ({', '.join(gap['reason'] for gap in gaps)})"
    for outage in trial.outages:
        covered = any(
            datetime.fromisoformat(g["started_at"]) <= outage.began
            and datetime.fromisoformat(g["ended_at"]) >= outage.restarted
            for g in gaps
        )
        text += ", covers the outage" if covered else ", **does not cover the outage**"
    return text


# The faults.


def lock_store(seconds: float) -> Callable[[Trial], None]:
    """Another connection holds the database's write lock (``BEGIN EXCLUSIVE``)."""

    def inject(trial: Trial) -> None:
        lock = sqlite3.connect(trial.database, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            lock.rollback()
        finally:
            lock.close()

    return inject


def freeze_listener(seconds: float) -> Callable[[Trial], None]:
    def inject(trial: Trial) -> None:
        assert trial.listener is not None
        trial.listener.send_signal(signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            trial.listener.send_signal(signal.SIGCONT)

    return inject


def kill_listener(seconds: float) -> Callable[[Trial], None]:
    """kill -9, then a new listener `seconds` later; the time between is the outage."""

    def inject(trial: Trial) -> None:
        assert trial.listener is not None
        began = datetime.now(UTC)
        trial.listener.kill()
        trial.exit_codes.append(trial.listener.wait())
        time.sleep(seconds)
        trial.restart_listener(began)

    return inject


def restart_asterisk(trial: Trial) -> None:
    """``core restart now``: Asterisk hangs every channel up and re-executes itself."""
    asterisk("core restart now")
    wait_for(lambda: read_ami_banner(LAB_HOST, AMI_PORT) is not None, 60.0)
    wait_for(lambda: listener_sessions() > 0, LOGIN_TIMEOUT_SECONDS)


def freeze_asterisk(seconds: float) -> Callable[[Trial], None]:
    def inject(trial: Trial) -> None:
        pid = lab_status().pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            os.kill(pid, signal.SIGCONT)

    return inject


def fill_disk(seconds: float) -> Callable[[Trial], None]:
    """Fill the scratch filesystem (database and journal), then free it `seconds` later."""

    def inject(trial: Trial) -> None:
        filler = trial.work / "filler"
        with filler.open("wb") as output:
            try:
                while True:
                    output.write(b"\0" * 1024 * 1024)
                    output.flush()
            except OSError:
                pass
        try:
            time.sleep(seconds)
        finally:
            filler.unlink()

    return inject


def make_read_only(seconds: float) -> Callable[[Trial], None]:
    """The database and its write-ahead log made read-only (mode 0444, and immutable:
    root ignores modes), then writable again. The shared-memory file is left alone:
    SQLite maps it, and an immutable one kills the process (SIGBUS)."""

    def inject(trial: Trial) -> None:
        files = [str(trial.database), f"{trial.database}-wal"]
        subprocess.run(["chmod", "0444", *files], check=True)
        subprocess.run(["chattr", "+i", *files], check=True)
        try:
            time.sleep(seconds)
        finally:
            subprocess.run(["chattr", "-i", *files], check=True)
            subprocess.run(["chmod", "0600", *files], check=True)

    return inject


def terminate_during_outage(lock_seconds: float) -> Callable[[Trial], None]:
    """The store locked while the calls are made; SIGTERM; then a new listener once the
    lock is gone, which stores what the first one journalled."""

    def inject(trial: Trial) -> None:
        lock = sqlite3.connect(trial.database, isolation_level=None)
        try:
            lock.execute("BEGIN EXCLUSIVE")
            time.sleep(lock_seconds)
            began = datetime.now(UTC)
            took = trial.stop_listener()
            trial.notes.append(f"stopped {took:.1f} s after SIGTERM")
            lock.rollback()
        finally:
            lock.close()
        trial.restart_listener(began)

    return inject


def faults(quick: bool) -> list[Fault]:
    """The rows: (full, quick) traffic and fault durations."""

    def pick(full: float, short: float) -> float:
        return short if quick else full

    return [
        Fault(
            f"store locked {pick(75, 15):g} s",
            40,
            int(pick(70, 15)),
            lock_store(pick(75, 15)),
        ),
        Fault(
            f"listener SIGSTOPped {pick(30, 10):g} s",
            10,
            int(pick(30, 12)),
            freeze_listener(pick(30, 10)),
        ),
        Fault(
            f"listener killed (kill -9) {pick(8, 5):g} s, restarted",
            10,
            int(pick(20, 15)),
            kill_listener(pick(8, 5)),
        ),
        Fault("Asterisk restarted mid-burst", 10, int(pick(15, 10)), restart_asterisk),
        Fault(
            f"Asterisk frozen (SIGSTOP) {pick(5, 3):g} s mid-burst",
            10,
            int(pick(15, 10)),
            freeze_asterisk(pick(5, 3)),
        ),
        Fault(
            f"disk full {pick(15, 8):g} s, then freed",
            10,
            int(pick(20, 12)),
            fill_disk(pick(15, 8)),
            tmpfs_directory,
        ),
        Fault(
            f"database read-only {pick(15, 8):g} s, then fixed",
            10,
            int(pick(20, 12)),
            make_read_only(pick(15, 8)),
        ),
        Fault(
            "SIGTERM during a store outage, then restarted",
            10,
            int(pick(10, 6)),
            terminate_during_outage(pick(15, 10)),
        ),
    ]


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


def main() -> None:
    """Run every fault row against the lab PBX and write its section of RESULTS.md."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    quick = quick_mode()
    wanted = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    lab_up()
    results = []
    started = time.monotonic()
    try:
        for n, fault in enumerate(faults(quick)):
            if wanted and not any(word in fault.name for word in wanted):
                continue
            results.append(run_row(fault, f"+4413820001{FIRST_CALLER + n}"))
            print(results[-1], flush=True)
    finally:
        lab_up()
    elapsed = time.monotonic() - started
    rows = [
        (
            r.fault.name,
            f"{r.fault.rate} calls/s × {r.fault.seconds} s",
            r.placed,
            r.cdr_calls,
            r.stored,
            r.matched,
            f"**{r.lost}**",
            f"**{r.downgraded}**",
            r.placed_while_down,
            r.gaps,
            r.exit_codes,
            r.notes,
        )
        for r in results
    ]
    held = all(r.lost == 0 and r.downgraded == 0 for r in results)
    section = "\n\n".join(
        [
            "## Faults on the lab PBX, counted against Asterisk's CDR",
            "Command: `.venv/bin/python -m bench.faults` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; took {elapsed:.0f} s.",
            "`ringtest listen` as a real process (its own SQLite store and journal), sipp "
            "traffic from one lab citizen number per row, the fault injected "
            f"{FAULT_AFTER_SECONDS:g} s into it and undone, then every CDR call looked up in "
            "the store. Lost: CDR calls never stored, apart from those placed while no "
            "listener ran (only the CDR knows them). Downgraded: answered in the CDR but "
            "not stored as answered by a person, or knowing less (answer, answer time, ring "
            "time) than an earlier read of the store.",
            table(
                [
                    "fault",
                    "traffic",
                    "placed",
                    "CDR calls",
                    "stored",
                    "matched",
                    "lost",
                    "downgraded",
                    "placed while down",
                    "gaps recorded",
                    "listener exit",
                    "notes",
                ],
                rows,
            ),
            "Goal (issue 11): 0 lost and 0 downgraded in every row: "
            f"**{'held' if held else 'not held'}**.",
        ]
    )
    if not wanted:
        write_section("faults", section)
    print(section)


if __name__ == "__main__":
    main()
