"""Faults: the listener against a slow, full, read-only or absent store, its own death and the
PBX's, on the lab PBX under sipp traffic, counted against Asterisk's CDR.

Each row starts `ringtest listen` as a real process (examples/lab.toml, its own
SQLite store and journal directory in a scratch directory), places calls with sipp
(`bench.lab_traffic`, the row's own lab citizen number), injects its fault a few
seconds into the traffic, undoes it, waits until the CDR's calls are stored, stops
the listener with SIGTERM and counts:

* placed: calls sipp was asked to place; CDR calls: calls Asterisk's CDR wrote;
* stored: records of the row's caller; matched: CDR calls whose record agrees
  (answered or not, answer time within 1 s: `bench.lab_traffic.matches`);
* placed while down: CDR calls that began while no listener process ran (from its
  end to the next one's login) or within a recorded link-lost or PBX-restarted gap
  (a call answered in such an interval is not counted as downgraded). A
  listener-down gap starts at the last instant the store kept, which can be earlier
  than the process's end, so the process's own outage bounds those calls instead;
* filled from CDR: calls the listener's gap fill (`[history] cdr_file`, set to the
  lab's Master.csv) imported from the PBX's CDR after the reconnect: counted apart;
* lost: CDR calls with no record at all; downgraded: records less known than the CDR
  (answered there, not answered by a person here) or than an earlier read of the
  store held (an answer, an answer time or a ring time gone), polled every second;
* gaps: the coverage gaps stored (`ringtest gaps`), and whether one covers the time
  the listener was down; exit: the listener's exit code(s).

Rates and durations are modest (the lab sustains 40 calls/s with every call in the
CDR matched); ``--quick`` shortens every row.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.fault_injection import (
    fill_disk,
    freeze_asterisk,
    freeze_listener,
    kill_listener,
    lock_store,
    make_read_only,
    restart_asterisk,
    terminate_during_outage,
)
from bench.fault_trial import (
    POLL_SECONDS,
    StoreWatch,
    Trial,
    scratch_directory,
    tmpfs_directory,
)
from bench.lab_traffic import CdrCall, cdr_calls, cdr_path, matches, place_calls
from bench.results import machine_line, quick_mode, table, write_section
from ringtest.core.records import AnsweredBy, CallRecord
from ringtest.lab.pbx import asterisk_log_path, lab_up

FAULT_AFTER_SECONDS = 3.0
"""Traffic runs this long before each fault is injected."""
SETTLE_SECONDS = 60.0
"""How long after the traffic (and the fault) the CDR's calls may take to be stored."""
FIRST_CALLER = 171
"""Row n presents +4413820001(71+n): lab citizen numbers no test or demo uses."""


@dataclass(frozen=True)
class Fault:
    """One row: its name, traffic (calls/s for seconds) and how to inject and undo it."""

    name: str
    rate: int
    seconds: int
    inject: Callable[[Trial], None]
    work_dir: Callable[[], AbstractContextManager[Path]] = scratch_directory


@dataclass(frozen=True)
class RowResult:
    fault: Fault
    placed: int
    cdr_calls: int
    stored: int
    matched: int
    lost: int
    downgraded: int
    placed_while_down: int
    filled_from_cdr: int
    gaps: str
    exit_codes: str
    notes: str


def run_row(fault: Fault, caller: str) -> RowResult:
    """Traffic, the fault meanwhile, the calls settled, the listener stopped: the counts."""
    cdr = cdr_path()
    with fault.work_dir() as work:
        trial = Trial(work, caller)
        trial.start_listener()
        from_byte = cdr.stat().st_size
        asterisk_log_byte = asterisk_log_path().stat().st_size
        placed = fault.rate * fault.seconds
        traffic = threading.Thread(target=place_calls, args=(fault.rate, placed, caller))
        with StoreWatch(trial) as watch:
            traffic.start()
            time.sleep(FAULT_AFTER_SECONDS)
            try:
                fault.inject(trial)
            finally:
                traffic.join()
            truth = settled(watch, cdr, from_byte, caller)
            trial.stop_listener()
        records = watch.read()
        gaps = trial.gaps()
        unseen = [(o.began, o.resynced) for o in trial.outages] + [
            (datetime.fromisoformat(g["started_at"]), datetime.fromisoformat(g["ended_at"]))
            for g in gaps
            if g["reason"] != "listener_down"
        ]
        down = [c for c in truth.values() if within(c.started_at, unseen)]
        counted = [c for c in truth.values() if c not in down]
        lost = [c for c in truth.values() if c.uniqueid not in records]
        filled = sum(imported_from_cdr(records.get(c.uniqueid)) for c in truth.values())
        answered_unseen = [c for c in counted if within(c.answered_at, unseen)]
        downgraded = {
            c.uniqueid
            for c in counted
            if c.uniqueid in records
            and c.answered
            and c not in answered_unseen
            and records[c.uniqueid].answered_by is not AnsweredBy.PERSON
        } | (watch.forgotten & set(records))
        if answered_unseen:
            trial.notes.append(
                f"{len(answered_unseen)} placed before a gap were answered in it "
                "(stored incomplete)"
            )
        adopted = sum(
            c.uniqueid in records and not imported_from_cdr(records[c.uniqueid]) for c in down
        )
        if adopted:
            trial.notes.append(
                f"{adopted} of those placed while down were measured anyway (from the journal "
                "or adopted at the resync)"
            )
        matched = sum(matches(records.get(c.uniqueid), c) for c in truth.values())
        write_errors = trial.log_count("could not store")
        if write_errors:
            trial.notes.append(f"{write_errors} failed store writes logged")
        if lost or downgraded:
            trial.notes += logoffs_and_losses(trial, asterisk_log_byte)
        if lost:
            trial.notes.append(where_lost(lost, gaps))
        return RowResult(
            fault,
            placed,
            len(truth),
            len(records),
            matched,
            len(lost),
            len(downgraded),
            len(down),
            filled,
            describe_gaps(trial, gaps),
            ", ".join(str(code) for code in trial.exit_codes),
            "; ".join(trial.notes),
        )


def settled(watch: StoreWatch, cdr: Path, from_byte: int, caller: str) -> dict[str, CdrCall]:
    """The row's CDR calls, once each is stored or `SETTLE_SECONDS` passed."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        truth = cdr_calls(cdr, from_byte, caller)
        try:
            stored = set(watch.read())
        except Exception:
            stored = set()
        if set(truth) <= stored or time.monotonic() > deadline:
            return truth
        time.sleep(POLL_SECONDS)


def logoffs_and_losses(trial: Trial, asterisk_log_byte: int) -> list[str]:
    """When Asterisk logged the listener off (its messages.log since `asterisk_log_byte`)
    and when the listener dated the link loss (its own log): why calls were lost."""
    with asterisk_log_path().open("rb") as log_file:
        log_file.seek(asterisk_log_byte)
        asterisk_lines = log_file.read().decode(errors="replace").splitlines()
    logoffs = [line[1:24] for line in asterisk_lines if "'listener' logged off" in line]
    losses = [
        line.partition(" lost at ")[2].partition(": ")[0]
        for path in trial.log_files
        for line in path.read_text(errors="replace").splitlines()
        if " lost at " in line
    ]
    return [f"Asterisk logged the listener off at {at}" for at in logoffs] + [
        f"the listener dated the link loss {at}" for at in losses
    ]


LOST_CALLS_DESCRIBED = 5
"""How many lost calls a row's notes place against the recorded gaps."""


def where_lost(lost: list[CdrCall], gaps: list[dict]) -> str:
    """``lost calls began: 10:01:02.0 (3.1 s into gap 1), ...``: why the fill missed them."""

    def place(call: CdrCall) -> str:
        if call.started_at is None:
            return "unknown start"
        for n, gap in enumerate(gaps, start=1):
            began = datetime.fromisoformat(gap["started_at"])
            ended = datetime.fromisoformat(gap["ended_at"])
            if began <= call.started_at <= ended:
                return f"{(call.started_at - began).total_seconds():.1f} s into gap {n}"
        return "in no gap"

    described = sorted(lost, key=lambda call: call.started_at or datetime.max)
    spans = "; ".join(
        f"gap {n} {gap['started_at'][11:22]}-{gap['ended_at'][11:22]} "
        f"filled {gap.get('calls_filled')}"
        for n, gap in enumerate(gaps, start=1)
    )
    return f"{spans}; lost calls began: " + ", ".join(
        f"{call.started_at:%H:%M:%S} ({place(call)})"
        for call in described[:LOST_CALLS_DESCRIBED]
        if call.started_at is not None
    )


def imported_from_cdr(record: CallRecord | None) -> bool:
    """Whether the gap fill imported `record` from the CDR (its gap note says so)."""
    return record is not None and (record.gap_note or "").startswith("imported from")


def within(at: datetime | None, intervals: list[tuple[datetime, datetime]]) -> bool:
    """Whether a CDR time (whole seconds) falls in one of `intervals`."""
    return at is not None and any(
        began.replace(microsecond=0) <= at <= ended for began, ended in intervals
    )


def describe_gaps(trial: Trial, gaps: list[dict]) -> str:
    """``1 (listener_down), covers the outage``: the gaps `ringtest gaps` listed."""
    text = f"{len(gaps)}"
    if gaps:
        text += f" ({', '.join(gap['reason'] for gap in gaps)})"
    for outage in trial.outages:
        covered = any(
            datetime.fromisoformat(g["started_at"]) <= outage.began
            and datetime.fromisoformat(g["ended_at"]) >= outage.restarted
            for g in gaps
        )
        text += ", covers the outage" if covered else ", **does not cover the outage**"
    return text


def faults(quick: bool) -> list[Fault]:
    """The rows: (full, quick) traffic and fault durations."""

    def pick(full: float, short: float) -> float:
        return short if quick else full

    return [
        Fault(
            f"store locked {pick(75, 15):g} s",
            40,
            int(pick(70, 15)),
            lock_store(pick(75, 15)),
        ),
        Fault(
            f"listener SIGSTOPped {pick(30, 10):g} s",
            10,
            int(pick(30, 12)),
            freeze_listener(pick(30, 10)),
        ),
        Fault(
            f"listener killed (kill -9) {pick(8, 5):g} s, restarted",
            10,
            int(pick(20, 15)),
            kill_listener(pick(8, 5)),
        ),
        Fault("Asterisk restarted mid-burst", 10, int(pick(15, 10)), restart_asterisk),
        Fault(
            f"Asterisk frozen (SIGSTOP) {pick(5, 3):g} s mid-burst",
            10,
            int(pick(15, 10)),
            freeze_asterisk(pick(5, 3)),
        ),
        Fault(
            f"disk full {pick(15, 8):g} s, then freed",
            10,
            int(pick(20, 12)),
            fill_disk(pick(15, 8)),
            tmpfs_directory,
        ),
        Fault(
            f"database read-only {pick(15, 8):g} s, then fixed",
            10,
            int(pick(20, 12)),
            make_read_only(pick(15, 8)),
        ),
        Fault(
            "SIGTERM during a store outage, then restarted",
            10,
            int(pick(10, 6)),
            terminate_during_outage(pick(15, 10)),
        ),
    ]


def main() -> None:
    """Run every fault row against the lab PBX and write its section of RESULTS.md."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    quick = quick_mode()
    wanted = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    lab_up()
    results = []
    started = time.monotonic()
    try:
        for n, fault in enumerate(faults(quick)):
            if wanted and not any(word in fault.name for word in wanted):
                continue
            results.append(run_row(fault, f"+4413820001{FIRST_CALLER + n}"))
            print(results[-1], flush=True)
    finally:
        lab_up()
    elapsed = time.monotonic() - started
    rows = [
        (
            r.fault.name,
            f"{r.fault.rate} calls/s × {r.fault.seconds} s",
            r.placed,
            r.cdr_calls,
            r.stored,
            r.matched,
            f"**{r.lost}**",
            f"**{r.downgraded}**",
            r.placed_while_down,
            r.filled_from_cdr,
            r.gaps,
            r.exit_codes,
            r.notes,
        )
        for r in results
    ]
    held = all(r.lost == 0 and r.downgraded == 0 for r in results)
    section = "\n\n".join(
        [
            "## Faults on the lab PBX, counted against Asterisk's CDR",
            "Command: `.venv/bin/python -m bench.faults` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; took {elapsed:.0f} s.",
            "`ringtest listen` as a real process (its own SQLite store and journal), sipp "
            "traffic from one lab citizen number per row, the fault injected "
            f"{FAULT_AFTER_SECONDS:g} s into it and undone, then every CDR call looked up in "
            "the store. The listener fills its gaps from the lab's Master.csv (`[history] "
            "cdr_file`); calls it imported are counted apart (filled from CDR). Lost: CDR "
            "calls never stored at all. Downgraded: answered in the CDR but "
            "not stored as answered by a person, or knowing less (answer, answer time, ring "
            "time) than an earlier read of the store.",
            table(
                [
                    "fault",
                    "traffic",
                    "placed",
                    "CDR calls",
                    "stored",
                    "matched",
                    "lost",
                    "downgraded",
                    "placed while down",
                    "filled from CDR",
                    "gaps recorded",
                    "listener exit",
                    "notes",
                ],
                rows,
            ),
            "Goal (issue 11): 0 lost and 0 downgraded in every row: "
            f"**{'held' if held else 'not held'}**.",
        ]
    )
    if not wanted:
        write_section("faults", section)
    print(section)


if __name__ == "__main__":
    main()
