"""Everything the lab runs listens on loopback only, as `ss` sees it.

Asterisk (AMI, PJSIP, RTP), every sipp staff agent (SIP, RTP and its control port,
`-ci`) and the desk phone: each socket of their processes is bound to 127.0.0.1 or
::1. The one exception is PJSIP's DNS client, which Asterisk always creates and pjlib
binds to the wildcard address: one IPv4 and one IPv6 UDP socket on ephemeral ports.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from pathlib import Path

import pytest

from ringtest.lab.accounts import AMI_PORT
from ringtest.lab.pbx import LabStatus, lab_status

pytestmark = pytest.mark.lab

_PROCESS = re.compile(r'\("([^"]+)",pid=(\d+),')


def listening_sockets() -> list[tuple[str, str, int, str]]:
    """(local address, process name, pid, "tcp"|"udp") of every listening TCP and
    unconnected UDP socket, from ss."""
    listing = subprocess.run(
        ["ss", "-tulpnH"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    sockets = []
    for line in listing.splitlines():
        fields = line.split()
        protocol, local, users = fields[0], fields[4], " ".join(fields[6:])
        sockets += [(local, name, int(pid), protocol) for name, pid in _PROCESS.findall(users)]
    return sockets


def is_loopback(local: str) -> bool:
    """Whether ss's local address (``127.0.0.1:5060``, ``[::1]:5060``, ``*:8888``,
    ``0.0.0.0%lo:53``) is bound to a loopback address."""
    host = local.rsplit(":", 1)[0].strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ephemeral_ports() -> range:
    """The kernel's ephemeral port range, which an unbound socket's port is taken from."""
    low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return range(int(low), int(high) + 1)


def is_pjsip_dns_client(local: str, name: str, protocol: str) -> bool:
    """Whether the socket is one of PJSIP's DNS query sockets: Asterisk's, UDP, on the
    wildcard address and an ephemeral port."""
    host, port = local.rsplit(":", 1)
    return (
        name == "asterisk"
        and protocol == "udp"
        and host in {"0.0.0.0", "[::]", "*"}
        and int(port) in ephemeral_ports()
    )


def test_every_socket_of_the_lab_but_the_dns_client_is_on_loopback(lab: LabStatus):
    lab = lab_status()  # the lab as it is now: a restart test may have replaced Asterisk
    lab_pids = {lab.pid, *(agent.pid for agent in lab.staff)}
    assert None not in lab_pids, f"the lab is not fully up: {lab.lines()}"
    sockets = [socket for socket in listening_sockets() if socket[2] in lab_pids]
    assert f"127.0.0.1:{AMI_PORT}" in {local for local, name, *_ in sockets if name == "asterisk"}
    assert {pid for _, name, pid, _ in sockets if name == "sipp"} == {
        agent.pid for agent in lab.staff if agent.sip_port is not None
    }
    exposed = [socket for socket in sockets if not is_loopback(socket[0])]
    dns_clients = [s for s in exposed if is_pjsip_dns_client(s[0], s[1], s[3])]
    assert [s for s in exposed if s not in dns_clients] == []
    assert len(dns_clients) <= 2, f"more than PJSIP's IPv4 and IPv6 DNS sockets: {dns_clients}"
