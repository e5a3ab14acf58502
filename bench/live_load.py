"""Live load: sipp calls into the lab PBX at rising rates, ringtest listening, checked against CDR.

For each rate, one sipp UAC places calls from the lab's `citizen` account
(digest auth) to 2001 (one person) and 2002 (a ring group) in turn; the staff
agents answer after 200-500 ms (``X-Lab-Answer``) and the caller hangs up 1 s
later. Each rate presents its own lab citizen number (``X-Lab-Caller``), so its
calls are told apart from other traffic on the shared lab.

ringtest's listener runs throughout as the demo runs it
(`BackgroundListener(make_listener(...))`, examples/lab.toml, a temp SQLite
store). Afterwards every call in Asterisk's own CDR (``Master.csv``, only rows
written during this run, of this rate's caller) is matched with the stored
record of the same Linkedid (the CDR's uniqueid is the caller channel's, which
is the Linkedid): matched when the record exists, agrees on answered or not,
and its `answered_at` is within 1 s of the CDR's answer time (CDR times are
whole seconds).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import socket
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from string import Template

from bench.results import machine_line, quick_mode, table, write_section
from ringtest.config import load_settings
from ringtest.core.records import AnsweredBy, CallRecord
from ringtest.core.stream import RecordStream
from ringtest.lab.accounts import CITIZEN, LAB_HOST, SIP_PORT
from ringtest.lab.build import default_lab_dir, rootfs_path
from ringtest.lab.pbx import lab_up
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

CDR_CSV = "var/log/asterisk/cdr-csv/Master.csv"
RATES_PER_SECOND, SECONDS_PER_RATE = (5, 10, 20, 40), 20
QUICK_RATES_PER_SECOND, QUICK_SECONDS_PER_RATE = (5, 20), 8
HOLD_MS = 1000
CALL_PLAN = (("2001", 300), ("2002", 400), ("2001", 500), ("2002", 200))
"""(dialled, staff answer ms) cycled through by each sipp run."""
FIRST_CALLER = 181
"""Rate n presents +4413820001(81+n): lab citizen numbers the demo does not use."""
SETTLE_SECONDS = 30.0


@dataclass(frozen=True)
class CdrCall:
    """One call as Asterisk's CDR saw it (rows grouped by the caller's uniqueid)."""

    uniqueid: str
    answered: bool
    answered_at: datetime | None


@dataclass(frozen=True)
class RateResult:
    rate: int
    placed: int
    sipp_ok: int
    sipp_failed: int
    cdr_calls: int
    records: int
    matched: int
    sipp_error: str

    @property
    def match_share(self) -> float:
        return self.matched / self.cdr_calls if self.cdr_calls else 0.0


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
        calls[uniqueid] = CdrCall(uniqueid, bool(answers), min(answers) if answers else None)
    return calls


def matches(record: CallRecord | None, truth: CdrCall) -> bool:
    if record is None or (record.answered_by is AnsweredBy.PERSON) != truth.answered:
        return False
    if not truth.answered:
        return True
    assert record.answered_at is not None and truth.answered_at is not None
    return abs((record.answered_at - truth.answered_at).total_seconds()) <= 1.0


def measure_rate(rate: int, seconds: int, caller: str, store: Store, cdr_path: Path) -> RateResult:
    placed = rate * seconds
    from_byte = cdr_path.stat().st_size
    for _attempt in range(SIPP_ATTEMPTS):
        with tempfile.TemporaryDirectory(prefix="ringtest-bench-sipp-") as work:
            ok, failed, sipp_error = run_sipp(rate, placed, caller, Path(work))
        if ok + failed > 0:
            break
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        truth = cdr_calls(cdr_path, from_byte, caller)
        records = {r.call_id: r for r in store.calls() if r.caller == caller}
        settled = len(truth) >= ok + failed and set(truth) <= set(records)
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    matched = sum(matches(records.get(uniqueid), call) for uniqueid, call in truth.items())
    return RateResult(rate, placed, ok, failed, len(truth), len(records), matched, sipp_error)


def main() -> None:
    """Run the live load benchmark against the lab PBX and write its section of RESULTS.md."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    quick = quick_mode()
    rates = QUICK_RATES_PER_SECOND if quick else RATES_PER_SECOND
    seconds = QUICK_SECONDS_PER_RATE if quick else SECONDS_PER_RATE
    lab_up()
    cdr_path = rootfs_path(default_lab_dir()) / CDR_CSV
    results = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-live-") as work:
        settings = load_settings(LAB_CONFIG, overrides={"store.url": f"sqlite:///{work}/live.db"})
        stream = RecordStream()
        with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
            stream.subscribe("store", writer.handle)
            listener = BackgroundListener(make_listener(settings, store, stream)).start()
            try:
                for n, rate in enumerate(rates):
                    caller = f"+4413820001{FIRST_CALLER + n}"
                    results.append(measure_rate(rate, seconds, caller, store, cdr_path))
            finally:
                listener.stop()
                writer.close()
    elapsed = time.monotonic() - started
    sustained = [r.rate for r in results if r.sipp_failed == 0 and r.sipp_ok == r.placed]
    rows = [
        (
            r.rate,
            r.placed,
            r.sipp_ok,
            r.sipp_failed,
            r.cdr_calls,
            r.records,
            r.matched,
            f"{r.match_share:.1%}",
            f"`{r.sipp_error}`" if r.sipp_error else "",
        )
        for r in results
    ]
    section = "\n\n".join(
        [
            "## Live load on the lab PBX, checked against Asterisk's CDR",
            "Command: `.venv/bin/python -m bench.live_load` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; took {elapsed:.0f} s.",
            f"sipp from `citizen` to 2001/2002, staff answer after 200-500 ms, hold {HOLD_MS} ms, "
            f"{seconds} s per rate; ringtest's listener attached throughout (SQLite store).",
            table(
                [
                    "calls/s",
                    "placed",
                    "sipp ok",
                    "sipp failed",
                    "CDR calls",
                    "records",
                    "matched",
                    "match share",
                    "sipp's most frequent error",
                ],
                rows,
            ),
            "Highest rate sustained (every call completed, none failed): "
            f"**{max(sustained) if sustained else 'none'} calls/s**.",
        ]
    )
    write_section("live-load", section)
    print(section)


def _utc(text: str) -> datetime:
    """A CDR time (``2026-11-22 23:33:21``, UTC with usegmtime) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((LAB_HOST, 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
