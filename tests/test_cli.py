"""The `ringtest` command as a person meets it: one line for every mistake, clean shutdown.

Run as real subprocesses (`python -m ringtest`), so what is checked is exactly
what lands on the terminal and the exit code a service manager sees.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ami_listener.recording import MAGIC
from ringtest.core.records import CallOutcome
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from ringtest.store import Store
from tests.conftest import wait_until

ROOT = Path(__file__).parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "ami" / "person_answers_after_1500ms.ami"


def ringtest(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ringtest", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def free_tcp_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unknown_setting_is_one_line_naming_file_key_and_fix(tmp_path):
    config = tmp_path / "ringtest.toml"
    config.write_text('[ami]\nhots = "pbx"\n')
    done = ringtest("--config", str(config), "calls")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"ringtest: {config}: unknown setting 'ami.hots': check the spelling "
        "(known: host, port, user, secret, secret_file, tls, pbx, ping_interval_seconds, "
        "pong_timeout_seconds, journal_dir, journal_max_megabytes, inbound_contexts)"
    ]


def test_bad_date_is_one_line_with_the_format_to_use(tmp_path):
    done = ringtest(
        "calls", "--since", "23/11/2026", env={"RINGTEST_DB": f"sqlite:///{tmp_path}/x.db"}
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "ringtest: Invalid value for --since: '23/11/2026' is not a date: write it like "
        "2026-11-23 or 2026-11-23T09:30 (see `ringtest calls --help`)"
    ]


def test_database_url_with_a_port_that_is_not_a_number_is_one_line_without_the_password():
    done = ringtest("calls", env={"RINGTEST_DB": "postgresql://user:pa:ss@host:notaport/db"})
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ringtest: database URL 'postgresql://user:***@host:notaport/db' has a port that is not "
        "a number from 1 to 65535: fix the port in RINGTEST_DB (or store.url), e.g. "
        "postgresql+psycopg://USER:PASSWORD@localhost:5432/DB"
    ]


def test_replayed_recording_is_stored_and_exported_as_json(tmp_path):
    env = {"RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db"}
    replayed = ringtest("--config", str(LAB_CONFIG), "replay", str(FIXTURE), env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.startswith("replayed 202 AMI messages")
    exported = ringtest(
        "--config", str(LAB_CONFIG), "calls", "--line", "2001", "--include-test-calls",
        "--format", "json", env=env,
    )  # fmt: skip
    calls = json.loads(exported.stdout)
    mystery = [c for c in calls if c["caller"] == "+441382000199"]
    assert [c["outcome"] for c in mystery] == ["answered"]
    assert mystery[0]["ring_seconds"] == pytest.approx(1.5, abs=0.05)


@pytest.mark.lab
def test_recording_with_one_wrong_length_in_the_middle_is_one_line_and_fails(tmp_path):
    stream = FIXTURE.read_bytes()
    recording, parts, damaged_at = tmp_path / "listen.rec", [MAGIC], 0
    for number, start in enumerate(range(0, len(stream), 1000), start=1):
        chunk = stream[start : start + 1000]
        if number == 5:
            damaged_at = sum(map(len, parts))
        length = len(chunk) + (number == 5)
        parts += [f"1795000000.{number:06d} {length}\n".encode(), chunk, b"\n"]
    recording.write_bytes(b"".join(parts))

    env = {"RINGTEST_DB": f"sqlite:///{tmp_path}/ringtest.db"}
    replayed = ringtest("--config", str(LAB_CONFIG), "replay", str(recording), env=env)

    assert replayed.returncode == 1
    assert replayed.stdout == ""
    created, *errors = replayed.stderr.splitlines()
    assert created.startswith("ringtest: created a new database")
    assert errors == [
        f"ringtest: {recording}: byte {damaged_at}: chunk 5 is not the 1001 bytes its header "
        "says: the recording is damaged there; to replay the chunks before it, cut a copy at "
        f"that byte (head -c {damaged_at})"
    ]


@pytest.mark.lab
def test_wrong_ami_secret_is_one_line_naming_user_and_fix(lab, tmp_path):
    env = {"RINGTEST_DB": f"sqlite:///{tmp_path}/x.db", "RINGTEST_AMI__SECRET": "wrong"}
    done = ringtest("--config", str(LAB_CONFIG), "listen", env=env)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "ringtest: AMI login to 127.0.0.1:5038 refused for user 'listener': "
        "check the user and secret in manager.conf"
    )
    assert "Traceback" not in done.stderr


def test_listen_with_the_pbx_not_up_retries_logging_each_attempt_and_stops_on_sigterm(
    tmp_path,
):
    port = free_tcp_port()
    env = {"RINGTEST_DB": f"sqlite:///{tmp_path}/x.db", "RINGTEST_AMI__PORT": str(port)}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stderr.readline().startswith("ringtest: created a new database")
        assert daemon.stderr.readline().startswith(f"listening to 127.0.0.1:{port}")
        first, second = daemon.stderr.readline(), daemon.stderr.readline()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    finally:
        daemon.kill()
    refused = (
        f"AMI at 127.0.0.1:{port} is not answering (connection refused): check that "
        "Asterisk is running and manager.conf has enabled = yes on this address and port"
    )
    assert first.rstrip().endswith(f"{refused}; retrying in 1 s")
    assert second.rstrip().endswith(f"{refused}; retrying in 2 s")
    assert "Traceback" not in daemon.stderr.read()


@pytest.mark.lab
def test_listener_stops_cleanly_on_sigterm_and_stores_the_ringing_call_as_incomplete(lab, tmp_path):
    database = f"sqlite:///{tmp_path}/ringtest.db"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "listen"],
        cwd=ROOT,
        env={**os.environ, "RINGTEST_DB": database},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert daemon.stderr.readline().startswith("ringtest: created a new database")
        assert daemon.stderr.readline().startswith("listening to 127.0.0.1:5038")
        wait_for_listener_login()
        lab_call("2001", answer="500", caller="+441382000151")
        ringing = threading.Thread(
            target=lab_call,
            kwargs=dict(target="2002", answer="never", give_up_ms=6000, caller="+441382000152"),
        )
        ringing.start()
        with Store.open(database) as store:
            wait_until(lambda: any(c.caller == "+441382000151" for c in store.calls()), 20.0)
        wait_until(lambda: "PJSIP/staff2" in asterisk("core show channels concise"), 20.0)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
        ringing.join()
    finally:
        daemon.kill()
    with Store.open(database) as store:
        by_caller = {c.caller: c for c in store.calls()}
    assert by_caller["+441382000151"].outcome is CallOutcome.ANSWERED
    stopped = by_caller["+441382000152"]
    assert stopped.outcome is CallOutcome.INCOMPLETE
    assert stopped.gap_note.startswith("listener stopped at ")


@pytest.mark.lab
def test_run_hosts_the_listener_stores_a_lab_call_and_stops_on_sigterm(lab, tmp_path):
    database = f"sqlite:///{tmp_path}/ringtest.db"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "ringtest", "--config", str(LAB_CONFIG), "run"],
        cwd=ROOT, env={**os.environ, "RINGTEST_DB": database},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert daemon.stderr.readline() == f"ringtest: created a new database {database}\n"
        assert daemon.stderr.readline() == (
            "running: listener on 127.0.0.1:5038, 0 campaigns, call-backs answered; "
            f"storing in {database}\n"
        )
        wait_for_listener_login()
        lab_call("2001", answer="500", caller="+441382000153")
        with Store.open(database) as store:
            wait_until(lambda: any(c.caller == "+441382000153" for c in store.calls()))
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0, daemon.stderr.read()
    finally:
        daemon.kill()
    with Store.open(database) as store:
        [stored] = [c for c in store.calls() if c.caller == "+441382000153"]
    assert stored.outcome is CallOutcome.ANSWERED
    assert stored.ring_seconds == pytest.approx(0.5, abs=0.3)


def asterisk(command: str) -> str:
    """Output of an Asterisk CLI command on the running lab PBX."""
    rootfs = rootfs_path(default_lab_dir())
    done = subprocess.run(
        ["chroot", str(rootfs), "asterisk", "-rx", command], capture_output=True, text=True
    )
    return done.stdout


def wait_for_listener_login() -> None:
    """The daemon logs in right after its first line; wait until Asterisk lists it."""
    wait_until(lambda: "listener" in asterisk("manager show connected"), 20.0)
