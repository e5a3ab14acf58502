"""Benchmark: `ringtest calls` exports and the table over 1,000,000 stored calls, and
`ringtest import-cdr` of a 700,000-row Master.csv.

The store is a temporary SQLite database filled as `bench.report_scale` fills it
(the store's schema, synthetic live calls over 12 weeks and 6 departments). The
Master.csv is synthetic cdr_csv (18 fields, UTC times matching the uniqueids):
a third of its calls ring a group of two (two rows, the second a few rows later,
between other calls' rows), to lines of examples/lab.toml and to lines it does
not monitor. Each command runs as the CLI runs it, `python -m ringtest ...` in a
fresh process with stdout to /dev/null, timed, its peak memory read from the
kernel (`wait4` ru_maxrss). Rows per second is rows over the whole command's
wall time, Python's start and imports included. The store is filled in a child
process too: Python starts children with vfork, and a child's ru_maxrss counts
its parent's peak until exec, so this process stays small (under 30 MB).

The peer is the code before this change (commit `PEER_COMMIT`, extracted with
`git archive` into a temporary directory and run from there) at a tenth of the
sizes (`PEER_FRACTION`): its JSON export needed 5.7 GB at 1M calls, and its
table never finished. Each peer command is stopped after `PEER_TIMEOUT_SECONDS`.

Run: ``.venv/bin/python -m bench.export_scale`` (``RINGTEST_BENCH_QUICK=1``: 100k calls,
70k CDR rows).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.results import machine_line, quick_mode, table, write_section

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path("examples", "lab.toml")
"""The lab config, relative to the checkout each command runs from (its own version)."""
CALLS, CDR_ROWS = 1_000_000, 700_000
QUICK_CALLS, QUICK_CDR_ROWS = 100_000, 70_000
PEER_COMMIT = "ae24a68"
PEER_FRACTION = 10
PEER_TIMEOUT_SECONDS = 120.0
GOALS = {
    "ringtest --help (start-up alone)": ("(no goal: Python and the CLI's imports)", None, None),
    "calls --format csv": ("rows/s >= 100,000, peak < 200 MB", 100_000, 200),
    "calls --format json": ("rows/s >= 100,000, peak < 200 MB", 100_000, 200),
    "calls (table, newest 50)": ("< 1 s", None, None),
    "import-cdr": ("peak < 300 MB", None, 300),
}
NOTE = os.environ.get("RINGTEST_BENCH_NOTE", "")
"""A sentence for RESULTS.md about the run, e.g. what else loaded the machine."""
CDR_START = datetime(2026, 9, 7, 8, 0, tzinfo=UTC)
CDR_LINES = ("2000", "2001", "2002", "2004", "2005", "7777")
"""Extensions dialled: five monitored by examples/lab.toml, one not."""
DISPOSITIONS = ("ANSWERED", "ANSWERED", "ANSWERED", "NO ANSWER", "BUSY")


def write_master_csv(path: Path, rows: int) -> None:
    """`rows` cdr_csv rows; every third call also rings a second phone, its row written
    three rows later."""
    pending: list[tuple[int, str]] = []
    written = 0
    call = 0
    with path.open("w") as out:
        while written < rows:
            start = CDR_START + timedelta(seconds=7 * call)
            uniqueid = f"{int(start.timestamp())}.{call}"
            legs = 2 if call % 3 == 0 else 1
            for leg in range(legs):
                row = _cdr_row(call, leg, start, uniqueid)
                if leg == 0:
                    out.write(row)
                    written += 1
                else:
                    pending.append((written + 3, row))
            while pending and pending[0][0] <= written and written < rows:
                out.write(pending.pop(0)[1])
                written += 1
            call += 1


def _cdr_row(call: int, leg: int, start: datetime, uniqueid: str) -> str:
    disposition = DISPOSITIONS[call % len(DISPOSITIONS)]
    ring = 3 + call % 20
    answer = start + timedelta(seconds=ring) if disposition == "ANSWERED" and leg == 0 else None
    end = start + timedelta(seconds=ring + (90 if answer else 0))
    at = "%Y-%m-%d %H:%M:%S"
    dst = CDR_LINES[call % len(CDR_LINES)]
    return (
        f'"","+4413820{call % 100000:05d}","{dst}","council-inbound",'
        f'"""Citizen"" <+4413820{call % 100000:05d}>","PJSIP/trunk-{call:08x}",'
        f'"PJSIP/staff{leg}-{call:08x}","Dial","PJSIP/staff{leg},60","{start:{at}}",'
        f'"{answer.strftime(at) if answer else ""}","{end:{at}}",{ring + 90},'
        f'{90 if answer else 0},"{disposition if leg == 0 else "NO ANSWER"}",'
        f'"DOCUMENTATION","{uniqueid}",""\n'
    )


def run_command(
    code: Path, database: Path, args: list[str], timeout: float | None = None
) -> dict[str, float | bool]:
    """`python -m ringtest --config lab.toml ARGS` from `code` on `database`: wall seconds,
    CPU seconds (user and system, so a loaded machine's wait is not counted), peak MB, and
    whether it finished (False: killed at `timeout` seconds)."""
    environment = {**os.environ, "RINGTEST_DB": f"sqlite:///{database}"}
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "ringtest", "--config", str(code / CONFIG), *args],
            cwd=code, env=environment, stdout=sink, stderr=subprocess.PIPE,
        )  # fmt: skip
        finished = True
        while not (waited := os.wait4(child.pid, os.WNOHANG))[0]:
            if timeout is not None and time.perf_counter() - started > timeout:
                child.kill()
                waited = os.wait4(child.pid, 0)
                finished = False
                break
            time.sleep(0.02)
    seconds = time.perf_counter() - started
    _pid, status, usage = waited
    child.returncode = os.waitstatus_to_exitcode(status)
    errors = child.stderr.read().decode() if child.stderr else ""
    if finished and child.returncode != 0:
        raise RuntimeError(f"ringtest {' '.join(args)} from {code} failed: {errors}")
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,
        "finished": finished,
    }


def measure(code: Path, work: Path, calls: int, cdr_rows: int, timeout: float | None) -> list:
    """Each command from `code` at `calls` stored calls and `cdr_rows` CDR rows:
    (command, rows, seconds, rows/s, peak MB, finished)."""
    database = work / f"calls-{calls}.db"
    if not database.exists():
        subprocess.run(
            [sys.executable, "-m", "bench.export_scale", "--fill", str(database), str(calls)],
            cwd=ROOT, check=True,
        )  # fmt: skip
    if code != ROOT:
        database = as_schema_version_2(database, work / f"calls-{calls}-v2.db")
    master = work / f"Master-{cdr_rows}.csv"
    if not master.exists():
        write_master_csv(master, cdr_rows)
    commands = (
        ("ringtest --help (start-up alone)", None, database, ["--help"]),
        ("calls --format csv", calls, database, ["calls", "--format", "csv"]),
        ("calls --format json", calls, database, ["calls", "--format", "json"]),
        ("calls (table, newest 50)", None, database, ["calls"]),
        ("import-cdr", cdr_rows, work / f"import-{code.name}.db", ["import-cdr", str(master)]),
    )
    results = []
    for name, rows, target, args in commands:
        target_was_new = not target.exists()
        result = run_command(code, target, args, timeout)
        if name == "import-cdr" and target_was_new:
            target.unlink(missing_ok=True)
        rate = rows / float(result["seconds"]) if rows and result["finished"] else None
        results.append((name, rows, result["seconds"], rate, result["peak_mb"], result["finished"]))
        stopped = "" if result["finished"] else " (stopped)"
        print(f"{name} ({calls:,} calls): {result['seconds']:.1f} s{stopped}")
    return results


def as_schema_version_2(database: Path, copy: Path) -> Path:
    """A copy of `database` as the peer (schema version 2, before Alembic) reads it: the
    same calls, without the tables and stamp added since."""
    if copy.exists():
        return copy
    shutil.copyfile(database, copy)
    with closing(sqlite3.connect(copy)) as connection, connection:
        for table in ("alembic_version", "unmatched_inbound_calls", "gap_fills"):
            connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute("UPDATE schema_version SET version = 2")
    return copy


def page_seconds(database: Path) -> float:
    """In a fresh process: seconds for the table's query, count and rendering alone (what
    `ringtest calls` does after start-up)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_scale", "--page", str(database)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip())


def _time_page(database: Path) -> None:
    from ringtest.outputs.export import render
    from ringtest.store import Store
    from ringtest.store.call_listing import count_calls, newest_calls

    with Store.open(f"sqlite:///{database}") as store:
        started = time.perf_counter()
        page = newest_calls(store, 50)
        count_calls(store)
        render(page, "table", ("started_at", "department", "line", "caller", "outcome"))
        print(time.perf_counter() - started)


def _met(name: str, seconds: float, rate: float | None, peak_mb: float) -> str:
    words, least_rate, most_mb = GOALS[name]
    if name.startswith("ringtest --help"):
        return words
    within = (least_rate is None or (rate or 0) >= least_rate) and (
        most_mb is None or peak_mb < most_mb
    )
    if name.startswith("calls (table"):
        within = seconds < 1.0
    return f"{'met' if within else 'missed'} ({words})"


def _count(number: float | None) -> str:
    return f"{number:,.0f}" if number else "-"


def _seconds(seconds: float, finished: bool) -> str:
    return f"{seconds:.1f}" if finished else f"> {seconds:.0f} (stopped)"


def main() -> None:
    calls, cdr_rows = (QUICK_CALLS, QUICK_CDR_ROWS) if quick_mode() else (CALLS, CDR_ROWS)
    small_calls, small_cdr = calls // PEER_FRACTION, cdr_rows // PEER_FRACTION
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-exports-") as work_name:
        work = Path(work_name)
        peer = work / "peer"
        peer.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", PEER_COMMIT], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(peer)], input=archive.stdout, check=True)
        full = measure(ROOT, work, calls, cdr_rows, None)
        page = page_seconds(work / f"calls-{calls}.db")
        small_now = measure(ROOT, work, small_calls, small_cdr, None)
        small_peer = measure(peer, work, small_calls, small_cdr, PEER_TIMEOUT_SECONDS)
    goal_rows = [
        (name, _count(rows), _seconds(seconds, True), _count(rate), f"{peak:,.0f}",
         _met(name, seconds, rate, peak))
        for name, rows, seconds, rate, peak, _finished in full
    ]  # fmt: skip
    ratio_rows = []
    for (name, rows, seconds, _rate, peak, _done), peer_result in zip(
        small_now, small_peer, strict=True
    ):
        _n, _r, peer_seconds, _pr, peer_peak, peer_done = peer_result
        ratio_rows.append(
            (
                name,
                _count(rows),
                f"{_seconds(peer_seconds, peer_done)} / {seconds:.1f}",
                f"{'>' if not peer_done else ''}{peer_seconds / seconds:.1f}x",
                f"{peer_peak:,.0f} / {peak:,.0f}",
                f"{peer_peak / peak:.1f}x",
            )
        )
    body = "\n\n".join(
        part
        for part in [
            "## Exports and CDR import at scale",
            "Command: `.venv/bin/python -m bench.export_scale` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after (2 cores shared with other work).",
            "Each command is `python -m ringtest --config examples/lab.toml ...` in a fresh "
            "process, stdout to /dev/null, on a SQLite store filled as `report_scale` fills it; "
            "rows/s is rows over the whole wall time, start-up and imports included; peak is "
            "the process's peak RSS from `wait4`. The CDR file is synthetic cdr_csv (18 fields, "
            "UTC times), a third of its calls two rows apart in the file; `import-cdr` goes "
            "into a fresh database.",
            NOTE,
            f"Against the goals, {calls:,} stored calls and a {cdr_rows:,}-row Master.csv:",
            table(("command", "rows", "seconds", "rows/s", "peak MB", "goal"), goal_rows),
            f"The table's own work (newest 50 read, the {calls:,} counted, rendered), timed "
            f"inside a fresh process after its imports: **{page:.3f} s**; the rest of the "
            "table command's time is start-up, as `ringtest --help` shows.",
            f"Before ({PEER_COMMIT}) / after, at a tenth of the size ({small_calls:,} calls, "
            f"{small_cdr:,} CDR rows; the old code is stopped after "
            f"{PEER_TIMEOUT_SECONDS:.0f} s), in the same run:",
            table(
                (
                    "command",
                    "rows",
                    "seconds before / after",
                    "faster",
                    "peak MB before / after",
                    "less memory",
                ),
                ratio_rows,
            ),  # fmt: skip
        ]
        if part
    )
    write_section("export-scale", body)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--page"]:
        _time_page(Path(sys.argv[2]))
    elif sys.argv[1:2] == ["--fill"]:
        from bench.report_scale import fill

        fill(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
