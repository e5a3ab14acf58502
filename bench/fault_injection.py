"""The faults of bench/faults.py, each injected into a running `Trial` and undone: a locked,
full or read-only store, a frozen or killed listener, a restarted or frozen Asterisk.

Each returns (or is) a callable taking the row's `Trial`; it returns once the fault
is over (the store free again, the listener running again).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bench.fault_trial import LOGIN_TIMEOUT_SECONDS, Trial, asterisk, listener_sessions, wait_for
from ringtest.lab.accounts import AMI_PORT, LAB_HOST
from ringtest.lab.pbx import lab_status
from ringtest.lab.ports import read_ami_banner


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
