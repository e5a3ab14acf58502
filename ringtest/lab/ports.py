"""The lab's loopback ports: are they free, is something listening, does AMI answer.

Checks read the kernel's socket tables (``/proc/net/tcp``, ``/proc/net/udp``)
rather than binding test sockets, so probing a starting Asterisk never steals
the port it is about to bind.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from ringtest.core.errors import LabError

_TCP_LISTEN = "0A"
_PROC_NET = {"tcp": Path("/proc/net/tcp"), "udp": Path("/proc/net/udp")}


@dataclass(frozen=True, slots=True)
class LabPort:
    """A port the lab listens on: `proto` is "tcp" or "udp"; `role` names it for people."""

    host: str
    port: int
    proto: str
    role: str

    def __str__(self) -> str:
        return f"{self.host}:{self.port}/{self.proto} ({self.role})"


def is_listening(lab_port: LabPort) -> bool:
    """True when some socket is bound to `lab_port` (listening, for TCP)."""
    wanted = _proc_net_address(lab_port.host, lab_port.port)
    for line in _PROC_NET[lab_port.proto].read_text().splitlines()[1:]:
        fields = line.split()
        local_address, state = fields[1], fields[3]
        if local_address in (wanted, _proc_net_address("0.0.0.0", lab_port.port)) and (
            lab_port.proto == "udp" or state == _TCP_LISTEN
        ):
            return True
    return False


def check_ports_free(lab_ports: list[LabPort]) -> None:
    """Raise `LabError` naming the first of `lab_ports` that something already holds."""
    for lab_port in lab_ports:
        if is_listening(lab_port):
            raise LabError(
                f"port {lab_port} is already in use by another program: "
                f"stop it (see `ss -lnp sport = :{lab_port.port}`) and run `ringtest lab up` again"
            )


def read_ami_banner(host: str, port: int, timeout_s: float = 2.0) -> str | None:
    """The greeting line AMI sends on connect (e.g. "Asterisk Call Manager/11.0.0"), or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            banner = conn.makefile("rb").readline()
    except OSError:
        return None
    return banner.decode(errors="replace").strip() or None


def _proc_net_address(host: str, port: int) -> str:
    """`host`:`port` as /proc/net/* writes it: little-endian hex IPv4, big-endian hex port."""
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"
