"""The lab's council staff: one sipp UAS per staff account, answering like a person.

Each agent listens on its static contact (``sip:staffN@127.0.0.1:507N``, see
`ringtest.lab.accounts`) and runs its scenario, most ``scenarios/staff_uas.xml``:
100 and 180 at once, then answer after the caller's ``X-Lab-Answer``
milliseconds (default `DEFAULT_ANSWER_MS`) and say "Hello?" (RTP), 486 for
``busy``, or ring until cancelled for ``never``. Reception (staff8) runs
``scenarios/transfer_uas.xml``: it answers the same way, then blind-transfers the
caller to `TRANSFER_TARGET` with a REFER.
sipp handles many calls in a row and at once. Agents run detached (sipp
``-bg``) with pid and error files in ``<lab dir>/staff/``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

from ringtest.errors import LabError
from ringtest.lab.accounts import (
    ANSWERING_AGENTS,
    DEFAULT_ANSWER_MS,
    LAB_HOST,
    SIP_PORT,
    TRANSFER_AFTER_MS,
    TRANSFER_TARGET,
    StaffAgent,
)
from ringtest.lab.audio.rtp_pcap import wav_to_rtp_pcap
from ringtest.lab.ports import LabPort, is_listening
from ringtest.lab.processes import running_pid, stop, wait_until

GREETING_WAV = "hello.wav"
"""What a staff agent says on answering: "Hello?" (espeak-ng, 8 kHz, shipped)."""
GREETING_PCAP = "hello.pcap"
"""The scenario's play_pcap_audio file, made from GREETING_WAV in the agents' work dir."""
RECV_TIMEOUT_MS = 600_000
"""A staff call waiting longer than this (10 min) for its next message is dropped."""


@dataclass(frozen=True, slots=True)
class StaffAgentStatus:
    """One staff agent: its account, SIP port and pid (None when not running)."""

    username: str
    sip_port: int
    pid: int | None

    @property
    def up(self) -> bool:
        return self.pid is not None


def staff_ports() -> list[LabPort]:
    """The UDP ports the staff agents listen on."""
    return [_sip_port(agent) for agent in ANSWERING_AGENTS]


def staff_status(lab_dir: Path) -> tuple[StaffAgentStatus, ...]:
    """Which staff agents are running."""
    return tuple(
        StaffAgentStatus(
            agent.username, agent.sip_port, running_pid(_pid_file(lab_dir, agent), "sipp")
        )
        for agent in ANSWERING_AGENTS
    )


def start_staff(lab_dir: Path) -> tuple[StaffAgentStatus, ...]:
    """Start every staff agent that is not already running; return them all."""
    if shutil.which("sipp") is None:
        raise LabError(
            "sipp not found on PATH (the lab's staff agents are sipp): "
            "install it with `apt-get install sip-tester`"
        )
    work_dir = lab_dir / "staff"
    work_dir.mkdir(parents=True, exist_ok=True)
    for scenario in {agent.scenario for agent in ANSWERING_AGENTS}:
        (work_dir / scenario).write_bytes(
            files("ringtest.lab").joinpath("scenarios", scenario).read_bytes()
        )
    with as_file(files("ringtest.lab").joinpath("audio", GREETING_WAV)) as greeting:
        wav_to_rtp_pcap(greeting, work_dir / GREETING_PCAP)
    for agent, status in zip(ANSWERING_AGENTS, staff_status(lab_dir), strict=True):
        if not status.up:
            _start_agent(agent, work_dir)
    return staff_status(lab_dir)


def stop_staff(lab_dir: Path) -> None:
    """Stop every running staff agent."""
    for agent, status in zip(ANSWERING_AGENTS, staff_status(lab_dir), strict=True):
        if status.pid is not None:
            stop(status.pid, "sipp")
        _pid_file(lab_dir, agent).unlink(missing_ok=True)


def _start_agent(agent: StaffAgent, work_dir: Path) -> None:
    error_file = work_dir / f"{agent.username}.errors.log"
    argv = [
        "sipp", "-sf", str(work_dir / agent.scenario), "-bg", "-nostdin",
        "-i", LAB_HOST, "-p", str(agent.sip_port), "-mp", str(agent.rtp_port),
        "-s", agent.username, "-key", "default_answer_ms", str(DEFAULT_ANSWER_MS),
        "-key", "transfer_target", f"sip:{TRANSFER_TARGET}@{LAB_HOST}:{SIP_PORT}",
        "-key", "transfer_after_ms", str(TRANSFER_AFTER_MS),
        "-recv_timeout", str(RECV_TIMEOUT_MS), "-aa",
        "-trace_err", "-error_file", str(error_file),
    ]  # fmt: skip
    launched = subprocess.run(
        argv, cwd=work_dir, capture_output=True, text=True, start_new_session=True
    )
    match = re.search(r"PID=\[(\d+)\]", launched.stdout)
    port = _sip_port(agent)
    if not match or not wait_until(lambda: is_listening(port), timeout_s=5.0):
        detail = (launched.stderr or launched.stdout).strip().splitlines()
        raise LabError(
            f"lab staff agent {agent.username} (sipp on {port}) did not start"
            f"{': ' + detail[-1] if detail else ''}; see {error_file}"
        )
    _pid_file(work_dir.parent, agent).write_text(f"{match.group(1)}\n")


def _sip_port(agent: StaffAgent) -> LabPort:
    return LabPort(LAB_HOST, agent.sip_port, "udp", f"lab staff agent {agent.username}")


def _pid_file(lab_dir: Path, agent: StaffAgent) -> Path:
    return lab_dir / "staff" / f"{agent.username}.pid"
