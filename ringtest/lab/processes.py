"""Long-lived lab processes: start them detached, find them by pid file, stop them.

Lab processes (Asterisk, the sipp staff agents) must outlive the Python process
that started them: `ringtest lab up` returns and the lab keeps running. They run
in their own session, as orphans adopted by init, so they never linger as our
zombies. A pid file names each one; a pid counts as running only while
``/proc/<pid>`` is alive (not a zombie) and its command line names the program,
so a stale pid file reused by an unrelated process is not mistaken for the lab.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.05

_RECORD_PID_THEN_EXEC = 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"'


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` until it is true or `timeout_s` seconds (monotonic) pass."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_S)


def is_running(pid: int, program: str) -> bool:
    """True while `pid` is a live (not zombie) process whose command line names `program`:
    its executable (``sipp``), or the module a Python runs (``python3 -m program``), whatever
    the interpreter is called."""
    proc = Path(f"/proc/{pid}")
    try:
        stat = (proc / "stat").read_text()
        argv = [
            arg.decode(errors="replace") for arg in (proc / "cmdline").read_bytes().split(b"\0")
        ]
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    runs_module = argv[1:3] == ["-m", program]
    return state not in ("Z", "X") and (Path(argv[0]).name == program or runs_module)


def running_pid(pid_file: Path, program: str) -> int | None:
    """The pid recorded in `pid_file` if that process is still `program`, else None."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if is_running(pid, program) else None


def spawn_detached(argv: Sequence[str], pid_file: Path, output_file: Path, cwd: Path) -> int:
    """Start `argv` in a new session, detached from us; record its pid in `pid_file`.

    stdout and stderr are appended to `output_file`. Returns the pid, which stays
    the program's own pid (the launcher execs it).
    """
    pid_file.unlink(missing_ok=True)
    with output_file.open("ab") as output:
        subprocess.run(
            ["setsid", "--fork", "sh", "-c", _RECORD_PID_THEN_EXEC, str(pid_file), *argv],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            check=True,
        )
    wait_until(pid_file.exists, timeout_s=5.0)
    return int(pid_file.read_text().strip())


def stop(pid: int, program: str, grace_s: float = 10.0) -> None:
    """SIGTERM `pid`, then SIGKILL if it is still `program` after `grace_s` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not is_running(pid, program):
            return
        log.info("sending %s to %s (pid %d)", sig.name, program, pid)
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: not is_running(pid, program), timeout_s=grace_s):
            return
