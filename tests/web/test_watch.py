"""`ringtest watch` under a pseudo-terminal, against the real live view server.

The server is uvicorn on port 0 over a `LiveFeed` subscribed to a `RecordStream`
with the store writer beside it, as in the daemons; the watch is
``python -m ringtest watch`` in a subprocess whose terminal is a pty, read as a
person on SSH would see it (escape sequences stripped).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.stream import (
    CallAnswered,
    CallEnded,
    CallRinging,
    Change,
    RecordStream,
)
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store.writer import StoreWriter
from ringtest.web.app import build_web_app
from ringtest.web.feed import LiveFeed
from ringtest.web.server import WebServer
from tests.store.builders import call_record
from tests.web.conftest import TOKEN, utc_now

ROOT = Path(__file__).resolve().parents[2]
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
"""Terminal control sequences and carriage returns: what is left is the text shown."""

EXIT_SECONDS = 10.0
"""seconds `ringtest watch` has to exit after Ctrl-C."""
SCREEN_WAIT_SECONDS = 10.0
CALLER = "+441382000171"


class Terminal:
    """A command run on a pseudo-terminal of `columns` x `rows`, its output read as text.

    `expect` searches what was shown since the last match, so a frame drawn before an
    event never answers for one drawn after it.
    """

    def __init__(self, args: list[str], env: dict[str, str], columns=170, rows=60) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
            preexec_fn=_ctrl_c_as_in_a_terminal,
        )  # fmt: skip
        os.close(slave)
        self.text = ""
        self.searched_from = 0

    def expect(self, pattern: str, seconds: float = SCREEN_WAIT_SECONDS) -> re.Match[str]:
        deadline = time.monotonic() + seconds
        compiled = re.compile(pattern)
        while not (found := compiled.search(self.text, self.searched_from)):
            left = deadline - time.monotonic()
            assert left > 0, f"{pattern!r} not shown in {seconds} s; last shown:\n{self.tail()}"
            self._read(left)
        self.searched_from = found.end()
        return found

    def _read(self, seconds: float) -> None:
        ready, _, _ = select.select([self.master], [], [], min(seconds, 0.2))
        if not ready:
            return
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the command exited and the pty closed
            chunk = b""
        if not chunk:
            assert self.process.poll() is None, f"watch exited:\n{self.tail()}"
        self.text += ESCAPES.sub(b"", chunk).decode("utf-8", "replace")

    def tail(self) -> str:
        return self.text[-4000:]

    def close(self) -> int:
        """Ctrl-C's signal, then the exit code. What it prints meanwhile is read: a
        terminal nobody reads fills up, and its next write would hold it up for good."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + EXIT_SECONDS
        try:
            while self.process.poll() is None and time.monotonic() < deadline:
                ready, _, _ = select.select([self.master], [], [], 0.2)
                if ready:
                    with contextlib.suppress(OSError):  # EIO: it exited, the pty closed
                        os.read(self.master, 65536)
            return self.process.wait(max(0.0, deadline - time.monotonic()))
        finally:
            os.close(self.master)


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT does what it does in a terminal. A test run in the background
    (`make test &`) inherits SIGINT ignored, and Python then never raises
    KeyboardInterrupt, so `ringtest watch` would not stop on Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class Daemon:
    """What a daemon holds for its live view: the stream, the feed and its server."""

    stream: RecordStream
    feed: LiveFeed
    server: WebServer

    def restart(self, while_down: Sequence[Change]) -> None:
        """Stop the server (its streams end), publish `while_down`, serve again on its port."""
        port = self.server.port
        self.server.stop()
        self.stream.publish(while_down)
        self.server = WebServer(build_web_app(self.feed, TOKEN), "127.0.0.1", port).start()


@pytest.fixture
def daemon(store, feed) -> Iterator[Daemon]:
    stream = RecordStream()
    with StoreWriter(store) as writer:
        stream.subscribe("live view", feed.handle)
        stream.subscribe("store", writer.handle)
        writer.notify_stored(lambda changes: feed.refresh_day())
        running = Daemon(stream, feed, WebServer(build_web_app(feed, TOKEN), "127.0.0.1", 0))
        running.server.start()
        try:
            yield running
        finally:
            running.server.stop()


def watch(url: str, *options: str) -> list[str]:
    """`ringtest watch` at `url` with the lab's settings (its zone, its standard)."""
    return [sys.executable, "-m", "ringtest", "watch", "--config", str(LAB_CONFIG), "--url", url,
            *options]  # fmt: skip


def environ(token: str | None = TOKEN) -> dict[str, str]:
    """This environment without ringtest's variables, the token in RINGTEST_WEB__TOKEN."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("RINGTEST_")}
    env |= {"TERM": "xterm-256color", "PYTHONUNBUFFERED": "1"}
    return env | ({"RINGTEST_WEB__TOKEN": token} if token is not None else {})


def test_watch_shows_a_call_ringing_answered_and_the_state_again_after_a_server_restart(daemon):
    terminal = Terminal(watch(daemon.server.url), environ())
    try:
        terminal.expect(r"  live  standard: 7 rings of 3 s")
        terminal.expect(r"Housing +0 +– +– \(0 of 0\)")
        rang_at = utc_now() - timedelta(seconds=10)
        daemon.stream.publish(
            [CallRinging("w.1", "lab", "2002", "Housing", CALLER, False, rang_at)]
        )
        terminal.expect(r"Housing +1: \d+ rings +\d+ rings 0:00:\d\d +– \(0 of 0\)")
        answered_at = utc_now()
        answered = call_record(
            pbx="lab", call_id="w.1", caller=CALLER, department="Housing", line="2002",
            started_at=rang_at, ring_started_at=rang_at, answered_at=answered_at,
            answered_by=AnsweredBy.PERSON, ended_at=answered_at + timedelta(seconds=1),
            ring_seconds=10.0, rings=4, outcome=CallOutcome.ANSWERED, within_standard=True,
            is_test_call=False,
        )  # fmt: skip
        daemon.stream.publish(
            [CallAnswered("w.1", "lab", "2002", "Housing", AnsweredBy.PERSON, answered_at, 10, 4)]
        )
        terminal.expect(r"Housing +0 +– ")
        daemon.stream.publish([CallEnded(answered)])
        terminal.expect(r"Housing +0 +– +100\.0 % \(1 of 1\)")

        rang_while_down = utc_now()
        daemon.restart(
            [CallRinging("w.2", "lab", "2001", "Council Tax", CALLER, False, rang_while_down)]
        )
        terminal.expect(r"reconnecting… link lost \d+ s ago")
        terminal.expect(r"  live  standard")
        terminal.expect(r"Council Tax +1: \d+ rings")
        terminal.expect(r"Housing +0 +– +100\.0 % \(1 of 1\)")
    finally:
        code = terminal.close()
    assert code == 0, terminal.tail()
    assert "Traceback" not in terminal.text
    assert CALLER not in terminal.text and TOKEN not in terminal.text


def run_watch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=20)


def test_once_prints_one_frame_and_exits(daemon):
    done = run_watch(watch(daemon.server.url, "--once"), environ() | {"COLUMNS": "170"})
    assert (done.returncode, done.stderr) == (0, "")
    assert re.search(r"Housing +0 +– +– \(0 of 0\)", done.stdout)
    assert "Callers to call back (0)" in done.stdout


def test_a_server_not_reachable_is_one_line_naming_the_address_and_the_fix(daemon):
    url = daemon.server.url
    daemon.server.stop()
    for options in [(), ("--once",)]:
        done = run_watch(watch(url, *options), environ())
        assert done.returncode == 1
        assert done.stderr == (
            f"ringtest: the live view at {url} is not reachable (connection refused): "
            "start `ringtest run` or `ringtest listen` (web.enabled = true), or pass --url\n"
        )


def test_a_refused_token_is_one_line_naming_the_setting(daemon):
    done = run_watch(watch(daemon.server.url, "--once"), environ(token="wrong-token-16-chars"))
    assert done.returncode == 1
    assert done.stderr == (
        f"ringtest: the live view at {daemon.server.url} refused the token: set web.token "
        "(env RINGTEST_WEB__TOKEN) to the server's\n"
    )
    assert "wrong-token" not in done.stderr
