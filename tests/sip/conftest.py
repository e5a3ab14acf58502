"""Real SIP peers for the SIP tests: one pjsua2 endpoint per session, sipp UAS on free ports."""

from __future__ import annotations

import errno
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ringtest.lab.accounts import CITIZEN, LAB_HOST
from ringtest.sip.accounts import SipAccount

SCENARIOS = Path(__file__).parent / "scenarios"
SIPP_START_SECONDS = 10.0
"""seconds: how long a sipp UAS may take to bind its port."""


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port nothing on 127.0.0.1 uses right now (bound to 0, read, released)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def udp_port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
        return False


@dataclass(frozen=True)
class SippUas:
    """A running sipp UAS: `uri(user)` addresses it."""

    port: int
    process: subprocess.Popen[bytes]

    def uri(self, user: str = "service") -> str:
        return f"sip:{user}@127.0.0.1:{self.port}"


@pytest.fixture
def silent_uri() -> str:
    """A SIP URI on a loopback UDP port where nothing listens."""
    return f"sip:nobody@127.0.0.1:{free_port()}"


@pytest.fixture
def sipp_uas(tmp_path: Path) -> Iterator[Callable[[str], SippUas]]:
    """Start a sipp UAS running `scenarios/<name>.xml` on free loopback ports."""
    started: list[subprocess.Popen[bytes]] = []

    def start(scenario: str) -> SippUas:
        port, media_port = free_port(), free_port()
        process = subprocess.Popen(
            [
                "sipp",
                *("-sf", str(SCENARIOS / f"{scenario}.xml")),
                *("-i", "127.0.0.1", "-ci", "127.0.0.1", "-p", str(port)),
                *("-mi", "127.0.0.1", "-mp", str(media_port)),
                *("-timer_resol", "1"),
                "-nostdin",
            ],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        started.append(process)
        deadline = time.monotonic() + SIPP_START_SECONDS
        while not udp_port_in_use(port):
            if process.poll() is not None:
                pytest.fail(f"sipp {scenario} exited: {process.stderr.read().decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"sipp {scenario} did not bind 127.0.0.1:{port}")
            time.sleep(0.01)
        return SippUas(port=port, process=process)

    yield start
    for process in started:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def citizen(sip_endpoint, lab) -> Iterator[str]:
    """The lab's citizen caller, set up on the session's endpoint (digest auth, no REGISTER)."""
    sip_endpoint.add_account(
        SipAccount(
            name="lab-citizen", user=CITIZEN.username, password=CITIZEN.secret, domain=LAB_HOST
        )
    )
    yield "lab-citizen"
    sip_endpoint.remove_account("lab-citizen")
