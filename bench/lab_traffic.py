"""Lab traffic for the live benchmarks: sipp calls into the lab PBX, and Asterisk's CDR of them.

One sipp UAC places calls from the lab's `citizen` account (digest auth) to 2001
(one person) and 2002 (a ring group) in turn; the staff agents answer after
200-500 ms (``X-Lab-Answer``) and the caller hangs up `HOLD_MS` later. Each run
presents its own lab citizen number (``X-Lab-Caller``, +4413820001XX), so its calls
are told apart from other traffic on the shared lab.

Asterisk's own CDR (cdr_csv ``Master.csv``, UTC times in whole seconds) is the
ledger: `cdr_calls` groups its rows by the caller channel's uniqueid, which is the
Linkedid ringtest keys calls by, and `matches` says whether a stored record agrees
with it (answered or not, and the answer time within 1 s).
"""

from __future__ import annotations

import csv
import io
import re
import socket
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from string import Template

from ringtest.core.records import AnsweredBy, CallRecord
from ringtest.lab.accounts import CITIZEN, LAB_HOST, SIP_PORT
from ringtest.lab.build import default_lab_dir, rootfs_path

CDR_CSV = "var/log/asterisk/cdr-csv/Master.csv"
HOLD_MS = 1000
CALL_PLAN = (("2001", 300), ("2002", 400), ("2001", 500), ("2002", 200))
"""(dialled, staff answer ms) cycled through by each sipp run."""


@dataclass(frozen=True)
class CdrCall:
    """One call as Asterisk's CDR saw it (rows grouped by the caller's uniqueid)."""

    uniqueid: str
    answered: bool
    answered_at: datetime | None
    started_at: datetime | None = None


def scenario_text() -> str:
    """The lab caller scenario, with the target and answer delay read per call from a CSV."""
    template = files("ringtest.lab").joinpath("scenarios", "caller_uac.xml").read_text()
    text = Template(template).substitute(give_up_ms=0)
    return text.replace("[service]", "[field0]").replace(
        "X-Lab-Answer: [lab_answer]", "X-Lab-Answer: [field1]"
    )


SIPP_ATTEMPTS = 2
"""sipp is started again once when it placed no call at all (it lost the race for the
free port it was given); what it said is reported if it fails twice."""


def run_sipp(rate: int, calls: int, caller: str, work: Path) -> tuple[int, int, str]:
    """Place `calls` calls at `rate` per second; returns sipp's successful and failed
    counts and its most frequent error, if any."""
    (work / "caller.xml").write_text(scenario_text())
    plan = ["SEQUENTIAL"] + [f"{target};{answer_ms}" for target, answer_ms in CALL_PLAN]
    (work / "calls.csv").write_text("\n".join(plan) + "\n")
    stats = work / "stats.csv"
    argv = [
        "sipp",
        f"{LAB_HOST}:{SIP_PORT}",
        "-sf",
        str(work / "caller.xml"),
        "-inf",
        str(work / "calls.csv"),
        "-nostdin",
        "-i",
        LAB_HOST,
        "-ci",
        LAB_HOST,
        "-p",
        str(_free_udp_port()),
        "-mi",
        LAB_HOST,
        "-mp",
        str(_free_udp_port() & ~1),
        "-au",
        CITIZEN.username,
        "-ap",
        CITIZEN.secret,
        "-key",
        "account",
        CITIZEN.username,
        "-key",
        "lab_caller",
        caller,
        "-r",
        str(rate),
        "-m",
        str(calls),
        "-l",
        str(rate * 10),
        "-d",
        str(HOLD_MS),
        "-timeout",
        f"{calls // rate + 60}s",
        "-trace_stat",
        "-stf",
        str(stats),
        "-fd",
        "1",
        "-trace_err",
        "-error_file",
        str(work / "errors.log"),
    ]
    ran = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=calls / rate + 90)
    stats_text = stats.read_text() if stats.exists() else ""
    rows = list(csv.DictReader(io.StringIO(stats_text), delimiter=";"))
    if not rows or int(rows[-1]["SuccessfulCall(C)"]) + int(rows[-1]["FailedCall(C)"]) == 0:
        why = (ran.stderr or ran.stdout).strip().splitlines()
        return 0, 0, f"sipp placed no call (exit {ran.returncode}): {why[-1] if why else ''}"
    last = rows[-1]
    return int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]), _top_error(work)


def _top_error(work: Path) -> str:
    """sipp's most frequent error line, without its time stamp and call numbers."""
    errors_log = work / "errors.log"
    lines = errors_log.read_text(errors="replace").splitlines() if errors_log.exists() else []
    reasons = Counter(
        re.sub(r"\d+", "N", line.partition("\t")[2] or line)[:90]
        for line in lines
        if "call" in line.lower() or "message" in line.lower()
    )
    return reasons.most_common(1)[0][0] if reasons else ""


def place_calls(rate: int, calls: int, caller: str) -> tuple[int, int, str]:
    """`run_sipp` in a scratch directory, started again once if it placed no call."""
    for _attempt in range(SIPP_ATTEMPTS):
        with tempfile.TemporaryDirectory(prefix="ringtest-bench-sipp-") as work:
            ok, failed, sipp_error = run_sipp(rate, calls, caller, Path(work))
        if ok + failed > 0:
            break
    return ok, failed, sipp_error


def cdr_path() -> Path:
    """The lab Asterisk's Master.csv (cdr_csv, UTC times)."""
    return rootfs_path(default_lab_dir()) / CDR_CSV


def cdr_calls(cdr_path: Path, from_byte: int, caller: str) -> dict[str, CdrCall]:
    """The CDR's calls from `caller` written after byte `from_byte` of Master.csv."""
    with cdr_path.open("rb") as cdr:
        cdr.seek(from_byte)
        text = cdr.read().decode("utf-8", errors="replace")
    rows: dict[str, list[list[str]]] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) >= 17 and row[1] == caller:
            rows.setdefault(row[16], []).append(row)
    calls = {}
    for uniqueid, legs in rows.items():
        answers = [_utc(leg[10]) for leg in legs if leg[14] == "ANSWERED" and leg[10]]
        started_at = min(_utc(leg[9]) for leg in legs)
        answered_at = min(answers) if answers else None
        calls[uniqueid] = CdrCall(uniqueid, bool(answers), answered_at, started_at)
    return calls


def matches(record: CallRecord | None, truth: CdrCall) -> bool:
    if record is None or (record.answered_by is AnsweredBy.PERSON) != truth.answered:
        return False
    if not truth.answered:
        return True
    assert record.answered_at is not None and truth.answered_at is not None
    return abs((record.answered_at - truth.answered_at).total_seconds()) <= 1.0


def _utc(text: str) -> datetime:
    """A CDR time (``2026-11-22 23:33:21``, UTC with usegmtime) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LAB_HOST, 0))
        return probe.getsockname()[1]
