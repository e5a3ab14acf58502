"""Everything the lab runs listens on loopback only, as `ss` sees it.

Asterisk (AMI, PJSIP, RTP; and no PJSIP DNS resolver on 0.0.0.0), every sipp staff
agent (SIP, RTP and its control port, `-ci`) and the desk phone: each listening
socket of their processes is bound to 127.0.0.1 or ::1.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess

import pytest

from ringtest.lab.accounts import AMI_PORT
from ringtest.lab.pbx import LabStatus, lab_status

pytestmark = pytest.mark.lab

_PROCESS = re.compile(r'\("([^"]+)",pid=(\d+),')


def listening_sockets() -> list[tuple[str, str, int]]:
    """(local address, process name, pid) of every listening TCP/UDP socket, from ss."""
    listing = subprocess.run(
        ["ss", "-tulpnH"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    sockets = []
    for line in listing.splitlines():
        fields = line.split()
        local, users = fields[4], " ".join(fields[6:])
        sockets += [(local, name, int(pid)) for name, pid in _PROCESS.findall(users)]
    return sockets


def is_loopback(local: str) -> bool:
    """Whether ss's local address (``127.0.0.1:5060``, ``[::1]:5060``, ``*:8888``,
    ``0.0.0.0%lo:53``) is bound to a loopback address."""
    host = local.rsplit(":", 1)[0].strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_every_listening_socket_of_the_lab_is_on_loopback(lab: LabStatus):
    lab = lab_status()  # the lab as it is now: a restart test may have replaced Asterisk
    lab_pids = {lab.pid, *(agent.pid for agent in lab.staff)}
    assert None not in lab_pids, f"the lab is not fully up: {lab.lines()}"
    sockets = [(local, name, pid) for local, name, pid in listening_sockets() if pid in lab_pids]
    assert f"127.0.0.1:{AMI_PORT}" in {local for local, name, _ in sockets if name == "asterisk"}
    assert {pid for _, name, pid in sockets if name == "sipp"} == {
        agent.pid for agent in lab.staff if agent.sip_port is not None
    }
    assert [socket for socket in sockets if not is_loopback(socket[0])] == []
