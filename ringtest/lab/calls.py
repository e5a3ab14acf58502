"""Place one call into the lab PBX from a lab account, with sipp as the caller.

A thin driver for ``scenarios/caller_uac.xml``: sipp authenticates as the
account, sends ``X-Lab-Answer`` so the staff agents answer as asked, and logs
each event with its millisecond clock. The result holds sipp's own timings
(monotonic, from the second, authenticated INVITE): to the first 180/183 and
to the final response. For lab tests and demos; the real ring-test caller is
`ringtest.sip`.
"""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from ringtest.core.errors import LabError
from ringtest.lab.accounts import CITIZEN, LAB_HOST, SIP_PORT, SipAccount

SCENARIO = "caller_uac.xml"
_EVENT = re.compile(r"event=(\w+)(?: code=(\d+))? clock_ms=(\d+)")


@dataclass(frozen=True, slots=True)
class LabCallResult:
    """How a lab call went.

    final_code: the INVITE's final SIP status (200, 486, 487 after our CANCEL...), None if none.
    ringing_ms: milliseconds from INVITE to the first 180/183, None if it never rang.
    final_ms: milliseconds from INVITE to the final response.
    cancelled: we gave up ringing and sent CANCEL.
    """

    target: str
    account: str
    final_code: int | None
    ringing_ms: int | None
    final_ms: int | None
    cancelled: bool

    @property
    def answered(self) -> bool:
        return self.final_code == 200


def lab_call(
    target: str,
    account: SipAccount = CITIZEN,
    answer: str | None = None,
    hold_ms: int = 500,
    give_up_ms: int = 0,
    timeout_s: float = 60.0,
    caller: str | None = None,
) -> LabCallResult:
    """Call `target` (e.g. "2001" or "+441382434001") as `account` and wait for the end.

    answer: X-Lab-Answer for the staff agents ("1500", "busy", "never"), None for
        their default. hold_ms: how long to stay on an answered call before BYE.
    give_up_ms: CANCEL when no further response comes for this long (0: never).
    caller: present this citizen number (X-Lab-Caller, +4413820001XX) instead of the
        account's own.
    """
    with tempfile.TemporaryDirectory(prefix="ringtest-lab-call-") as work:
        work_dir = Path(work)
        scenario = work_dir / SCENARIO
        template = files("ringtest.lab").joinpath("scenarios", SCENARIO).read_text()
        scenario.write_text(Template(template).substitute(give_up_ms=give_up_ms))
        log_file = work_dir / "events.log"
        error_file = work_dir / "errors.log"
        sip_port = _free_udp_port()
        argv = [
            "sipp",
            f"{LAB_HOST}:{SIP_PORT}",
            "-sf",
            str(scenario),
            "-nostdin",
            "-i",
            LAB_HOST,
            "-ci",
            LAB_HOST,
            "-p",
            str(sip_port),
            "-mi",
            LAB_HOST,
            "-mp",
            str(_free_media_port()),
            "-s",
            target,
            "-au",
            account.username,
            "-ap",
            account.secret,
            "-key",
            "account",
            account.username,
            "-key",
            "lab_answer",
            answer or "",
            "-key",
            "lab_caller",
            caller or "",
            "-m",
            "1",
            "-d",
            str(hold_ms),
            "-trace_logs",
            "-log_file",
            str(log_file),
            "-trace_err",
            "-error_file",
            str(error_file),
        ]
        try:
            done = subprocess.run(argv, cwd=work_dir, capture_output=True, timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            raise LabError(
                f"lab call to {target} as {account.username} did not end within "
                f"{timeout_s:.0f} s: pass give_up_ms to cancel calls nobody answers"
            ) from error
        events = _EVENT.findall(log_file.read_text()) if log_file.exists() else []
        if not events:
            errors = error_file.read_text().strip() if error_file.exists() else ""
            raise LabError(
                f"lab call to {target} as {account.username} was never placed "
                f"(sipp exit {done.returncode}{': ' + errors.splitlines()[-1] if errors else ''}): "
                "is the lab up? try `ringtest lab status`"
            )
    return _result(target, account.username, events)


def _result(target: str, account: str, events: list[tuple[str, str, str]]) -> LabCallResult:
    clock_ms = {name: int(ms) for name, _code, ms in reversed(events)}
    final_code = next((int(code) for name, code, _ms in events if name == "final"), None)
    invite_ms = clock_ms["invite"]
    return LabCallResult(
        target=target,
        account=account,
        final_code=final_code,
        ringing_ms=clock_ms["ringing"] - invite_ms if "ringing" in clock_ms else None,
        final_ms=clock_ms["final"] - invite_ms if "final" in clock_ms else None,
        cancelled="cancel" in clock_ms,
    )


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LAB_HOST, 0))
        return probe.getsockname()[1]


def _free_media_port() -> int:
    """A free even UDP port whose +2 (sipp's video socket) is free as well."""
    while True:
        port = _free_udp_port() & ~1
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as audio,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as video,
            ):
                audio.bind((LAB_HOST, port))
                video.bind((LAB_HOST, port + 2))
        except OSError:
            continue
        return port
