"""The lab PBX comes up, reports itself, and its AMI grants exactly the documented rights."""

from __future__ import annotations

import socket
import time

import pytest

from ringtest.lab.accounts import (
    AMI_ADMIN,
    AMI_LISTENER,
    AMI_PORT,
    ANSWERING_AGENTS,
    DESK_PHONE,
    LAB_HOST,
    AmiUser,
)
from ringtest.lab.pbx import LabStatus, lab_log_tail, lab_status, lab_up

pytestmark = pytest.mark.lab


class RawAmi:
    """Just enough AMI to log in and run one action: CRLF frames over a socket."""

    def __init__(self) -> None:
        self.conn = socket.create_connection((LAB_HOST, AMI_PORT), timeout=10)
        self.reader = self.conn.makefile("rb")
        self.banner = self.reader.readline().decode().strip()

    def action(self, name: str, action_id: str, **headers: str) -> dict[str, str]:
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        self.conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while True:
            frame = self._read_frame()
            if frame.get("ActionID") == action_id and "Response" in frame:
                return frame

    def login(self, user: AmiUser, secret: str | None = None) -> dict[str, str]:
        return self.action(
            "Login", "login", Username=user.username, Secret=secret or user.secret, Events="off"
        )

    def close(self) -> None:
        self.reader.close()
        self.conn.close()

    def _read_frame(self) -> dict[str, str]:
        frame: dict[str, str] = {}
        while (line := self.reader.readline().decode().rstrip("\r\n")) != "":
            key, _, value = line.partition(": ")
            frame.setdefault(key, value)
        return frame


@pytest.fixture
def ami(lab: LabStatus):
    connection = RawAmi()
    yield connection
    connection.close()


def test_lab_comes_up_with_asterisk_22_and_ami_banner(lab: LabStatus) -> None:
    assert lab.up
    assert lab.asterisk_version is not None
    assert lab.asterisk_version.startswith("Asterisk 22.")
    assert lab.ami_banner is not None
    assert lab.ami_banner.startswith("Asterisk Call Manager/")
    assert [agent.username for agent in lab.staff if agent.up] == [
        *(a.username for a in ANSWERING_AGENTS),
        DESK_PHONE.username,
    ]


def test_lab_up_again_is_fast_and_keeps_the_same_asterisk(lab: LabStatus) -> None:
    before = lab_status()  # not the session's `lab`: the restart suite replaces Asterisk
    started = time.monotonic()
    again = lab_up()
    assert time.monotonic() - started < 5.0
    assert again.pid == before.pid
    assert lab_status().pid == before.pid


def test_status_lines_name_version_pid_and_ports(lab: LabStatus) -> None:
    lines = lab.lines()
    assert lines[0] == f"lab PBX up: {lab.asterisk_version} (pid {lab.pid})"
    assert lines[1] == f"AMI 127.0.0.1:5038 ({lab.ami_banner})"
    assert lines[2] == f"SIP 127.0.0.1:5060 udp+tcp, 5061 tls (CA file {lab.tls_ca_file})"
    assert "staff1@127.0.0.1:5071" in lines[3]


def test_lab_logs_show_the_running_asterisk_ready(lab: LabStatus) -> None:
    tail = lab_log_tail(lines=100_000)
    assert any(f"[{lab.pid}] asterisk.c: Asterisk Ready." in line for line in tail)
    assert len(lab_log_tail(lines=3)) == 3


def test_listener_logs_in_and_runs_status_actions(ami: RawAmi) -> None:
    assert ami.login(AMI_LISTENER)["Response"] == "Success"
    assert ami.action("Ping", "ping")["Ping"] == "Pong"
    assert ami.action("CoreShowChannels", "channels")["Response"] == "Success"
    assert ami.action("QueueStatus", "queues", Queue="benefits")["Response"] == "Success"


def test_listener_may_not_originate(ami: RawAmi) -> None:
    ami.login(AMI_LISTENER)
    refused = ami.action("Originate", "originate", Channel="PJSIP/staff1", Application="Wait")
    assert refused == {"Response": "Error", "ActionID": "originate", "Message": "Permission denied"}


def test_wrong_ami_secret_is_refused(ami: RawAmi) -> None:
    refused = ami.login(AMI_LISTENER, secret="not-the-secret")
    assert refused["Response"] == "Error"
    assert refused["Message"] == "Authentication failed"


def test_admin_logs_in(ami: RawAmi) -> None:
    assert ami.login(AMI_ADMIN)["Response"] == "Success"
