"""The lab's council staff: one sipp UAS per staff account, answering like a person.

Each agent listens on its static contact (``sip:staffN@127.0.0.1:507N``, see
`ringtest.lab.accounts`) and runs its scenario, most ``scenarios/staff_uas.xml``:
100 and 180 at once, then answer after the caller's ``X-Lab-Answer``
milliseconds (default `DEFAULT_ANSWER_MS`) and say the greeting the caller's
``X-Lab-Greeting`` chooses (RTP: "Hello?" by default, or a line naming the agent's
department, `ringtest.lab.greetings`), 486 for ``busy``, or ring until cancelled
for ``never``. Reception (staff8) runs
``scenarios/transfer_uas.xml``: it answers the same way, then blind-transfers the
caller to `TRANSFER_TARGET` with a REFER.
sipp handles many calls in a row and at once. Agents run detached (sipp
``-bg``) with pid and error files in ``<lab dir>/staff/``, each in a directory of
its own there (``staff/<username>/``) that holds its scenario and the greetings
it plays.

Environmental Health's desk phone (staff9) is no sipp agent but a pjsua2 process
(`ringtest.lab.desk_phone`: an attended transfer needs two dialogs at once); it
registers instead of having a static contact, and runs detached the same way.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ringtest.core.errors import LabError
from ringtest.lab.accounts import (
    ANSWERING_AGENTS,
    DEFAULT_ANSWER_MS,
    DESK_PHONE,
    LAB_HOST,
    SIP_PORT,
    TRANSFER_AFTER_MS,
    TRANSFER_TARGET,
    StaffAgent,
)
from ringtest.lab.greetings import write_greetings
from ringtest.lab.ports import LabPort, is_listening
from ringtest.lab.processes import running_pid, spawn_detached, stop, wait_until

RECV_TIMEOUT_MS = 600_000
"""A staff call waiting longer than this (10 min) for its next message is dropped."""
PYTHON = Path(sys.executable)
DESK_PHONE_MODULE = "ringtest.lab.desk_phone"
"""The desk phone's module: how its process is known, whether ``python`` or ``python3`` ran it."""
"""The desk phone runs on the interpreter (and so the install) running us."""
DESK_PHONE_REGISTERED_LINE = "registered and answering"
"""What the desk phone logs once it answers calls (`ringtest.lab.desk_phone`)."""
DESK_PHONE_START_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class StaffAgentStatus:
    """One staff agent: its account, SIP port and pid (None when not running)."""

    username: str
    sip_port: int | None
    """None for the desk phone, which registers from a port of its own choosing."""
    pid: int | None

    @property
    def up(self) -> bool:
        return self.pid is not None

    @property
    def where(self) -> str:
        """``staff1@127.0.0.1:5071``, or ``staff9 (registers)`` for the desk phone."""
        if self.sip_port is None:
            return f"{self.username} (registers)"
        return f"{self.username}@{LAB_HOST}:{self.sip_port}"


def staff_ports_down(lab_dir: Path) -> list[LabPort]:
    """The UDP ports of the sipp staff agents not running (they must be free to start)."""
    return [
        _sip_port(agent)
        for agent in ANSWERING_AGENTS
        if running_pid(_pid_file(lab_dir, agent), "sipp") is None
    ]


def staff_status(lab_dir: Path) -> tuple[StaffAgentStatus, ...]:
    """Which staff agents, and the desk phone, are running."""
    return (
        *(
            StaffAgentStatus(
                agent.username, agent.sip_port, running_pid(_pid_file(lab_dir, agent), "sipp")
            )
            for agent in ANSWERING_AGENTS
        ),
        StaffAgentStatus(DESK_PHONE.username, None, _desk_phone_pid(lab_dir)),
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
    for agent in ANSWERING_AGENTS:
        if running_pid(_pid_file(lab_dir, agent), "sipp") is None:
            _start_agent(agent, work_dir)
    if _desk_phone_pid(lab_dir) is None:
        _start_desk_phone(work_dir)
    return staff_status(lab_dir)


def stop_staff(lab_dir: Path) -> None:
    """Stop every running staff agent and the desk phone."""
    for agent in ANSWERING_AGENTS:
        pid = running_pid(_pid_file(lab_dir, agent), "sipp")
        if pid is not None:
            stop(pid, "sipp")
        _pid_file(lab_dir, agent).unlink(missing_ok=True)
    pid = _desk_phone_pid(lab_dir)
    if pid is not None:
        stop(pid, DESK_PHONE_MODULE)
    _desk_phone_pid_file(lab_dir).unlink(missing_ok=True)


def _start_agent(agent: StaffAgent, work_dir: Path) -> None:
    """Start `agent` from a directory of its own: its scenario, with the greetings it plays
    next to it (where sipp looks for a scenario's captures)."""
    agent_dir = work_dir / agent.username
    write_greetings(agent_dir, agent.username)
    (agent_dir / agent.scenario).write_bytes(
        files("ringtest.lab").joinpath("scenarios", agent.scenario).read_bytes()
    )
    error_file = work_dir / f"{agent.username}.errors.log"
    argv = [
        "sipp",
        "-sf",
        str(agent_dir / agent.scenario),
        "-bg",
        "-nostdin",
        "-i",
        LAB_HOST,
        "-ci",
        LAB_HOST,
        "-p",
        str(agent.sip_port),
        "-mi",
        LAB_HOST,
        "-mp",
        str(agent.rtp_port),
        "-s",
        agent.username,
        "-key",
        "default_answer_ms",
        str(DEFAULT_ANSWER_MS),
        "-key",
        "transfer_target",
        f"sip:{TRANSFER_TARGET}@{LAB_HOST}:{SIP_PORT}",
        "-key",
        "transfer_after_ms",
        str(TRANSFER_AFTER_MS),
        "-recv_timeout",
        str(RECV_TIMEOUT_MS),
        "-aa",
        "-trace_err",
        "-error_file",
        str(error_file),
    ]
    launched = subprocess.run(
        argv,
        cwd=agent_dir,
        capture_output=True,
        text=True,
        start_new_session=True,
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


def _start_desk_phone(work_dir: Path) -> None:
    """Start the desk phone and wait until it has registered and answers calls."""
    log_file = work_dir / f"{DESK_PHONE.username}.log"
    offset = log_file.stat().st_size if log_file.exists() else 0
    spawn_detached(
        [str(PYTHON), "-m", DESK_PHONE_MODULE],
        _desk_phone_pid_file(work_dir.parent),
        log_file,
        cwd=work_dir,
    )

    def registered() -> bool:
        return DESK_PHONE_REGISTERED_LINE in log_file.read_text(errors="replace")[offset:]

    if not wait_until(registered, timeout_s=DESK_PHONE_START_SECONDS):
        raise LabError(
            f"lab desk phone {DESK_PHONE.username} did not register within "
            f"{DESK_PHONE_START_SECONDS:g} s: see {log_file}"
        )


def _desk_phone_pid(lab_dir: Path) -> int | None:
    return running_pid(_desk_phone_pid_file(lab_dir), DESK_PHONE_MODULE)


def _desk_phone_pid_file(lab_dir: Path) -> Path:
    return lab_dir / "staff" / f"{DESK_PHONE.username}.pid"


def _sip_port(agent: StaffAgent) -> LabPort:
    return LabPort(LAB_HOST, agent.sip_port, "udp", f"lab staff agent {agent.username}")


def _pid_file(lab_dir: Path, agent: StaffAgent) -> Path:
    return lab_dir / "staff" / f"{agent.username}.pid"
