"""Benchmark: `ringtest import-cdr` of a 1,000,000-row Master.csv and `ringtest import-cel`
of a 10,000,000-row CEL file (the issue's sizes): rows per second and peak memory.

The CDR file is `bench.export_scale`'s synthetic cdr_csv (18 fields, UTC times, a third
of its calls ringing two phones, their second row a few rows later). The CEL file is
the lab Asterisk's own cel_custom file of one run of every line's call type
(`tests/fixtures/cel/lab_every_line.csv`: 212 rows, 12 calls and a consultation call:
direct lines, a ring group, queues, the IVR, voicemail, busy, congestion, an abandon,
a Local channel, blind and attended transfers), repeated with its times shifted by
`CEL_COPY_SECONDS`, its uniqueids and linkedids renumbered and its caller one of
`DISTINCT_CALLERS` numbers per copy, so every copy
is a new set of calls that the live tracker measures in full. Each import runs as the
CLI runs it, `python -m ringtest --config examples/lab.toml import-...` in a fresh
process into a fresh SQLite store (`bench.export_scale.run_command`: wall time,
start-up included, and the process's peak RSS from `wait4`).

Run: ``.venv/bin/python -m bench.history_import`` (``RINGTEST_BENCH_QUICK=1``: 100,000
rows of each).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from bench.export_scale import ROOT, run_command, write_master_csv
from bench.results import machine_line, quick_mode, table, write_section

CDR_ROWS, CEL_ROWS = 1_000_000, 10_000_000
QUICK_CDR_ROWS, QUICK_CEL_ROWS = 100_000, 100_000
LAB_CEL = ROOT / "tests" / "fixtures" / "cel" / "lab_every_line.csv"
CEL_COPY_SECONDS = 60
"""Seconds between copies of the lab run (it lasts under 40 s, so copies never overlap)."""
IDS_PER_COPY = 1_000
"""Added to each uniqueid's sequence number per copy (the lab run uses fewer than 100)."""
LAB_CALLER = "+441382000199"
DISTINCT_CALLERS = 50_000
"""Each copy's calls come from one of this many numbers, as a council's callers vary."""
GOALS = {
    "import-cdr": ("peak < 300 MB", None, 300),
    "import-cel": (">= 50,000 rows/s, peak < 300 MB", 50_000, 300),
}
UNIQUEID = re.compile(r'"(\d{10})\.(\d+)"')


def write_cel_csv(path: Path, rows: int) -> int:
    """At least `rows` CEL rows: whole copies of the lab run; returns how many."""
    template = LAB_CEL.read_text().splitlines()
    written = copy = 0
    with path.open("w") as out:
        while written < rows:
            shift = copy * CEL_COPY_SECONDS
            caller = f"+4413820{copy % DISTINCT_CALLERS:05d}"
            lines = [_shifted(line, shift, copy * IDS_PER_COPY, caller) for line in template]
            out.write("\n".join(lines) + "\n")
            written += len(lines)
            copy += 1
    return written


def _shifted(line: str, seconds: int, ids: int, caller: str) -> str:
    """A CEL line `seconds` later, its uniqueids and linkedids renumbered by `ids`, the lab's
    ring tester's number replaced by `caller`."""
    event, eventtime, rest = line.split(",", 2)
    rest = rest.replace(LAB_CALLER, caller)
    whole, _, fraction = eventtime.strip('"').partition(".")
    renumbered = UNIQUEID.sub(
        lambda found: f'"{int(found[1]) + seconds}.{int(found[2]) + ids}"', rest
    )
    return f'{event},"{int(whole) + seconds}.{fraction}",{renumbered}'


def _met(name: str, rate: float, peak_mb: float) -> str:
    words, least_rate, most_mb = GOALS[name]
    within = (least_rate is None or rate >= least_rate) and peak_mb < most_mb
    return f"{'met' if within else 'missed'} ({words})"


def main() -> None:
    cdr_rows, cel_rows = (QUICK_CDR_ROWS, QUICK_CEL_ROWS) if quick_mode() else (CDR_ROWS, CEL_ROWS)
    load_before = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-history-") as work_name:
        work = Path(work_name)
        master, cel = work / "Master.csv", work / "cel.csv"
        write_master_csv(master, cdr_rows)
        cel_rows = write_cel_csv(cel, cel_rows)
        for name, rows, path in (("import-cdr", cdr_rows, master), ("import-cel", cel_rows, cel)):
            measured = run_command(ROOT, work / f"{name}.db", [name, str(path)])
            rate = rows / float(measured["seconds"])
            cpu_rate = rows / float(measured["cpu_seconds"])
            results.append(
                (name, f"{rows:,}", f"{measured['seconds']:.1f}", f"{rate:,.0f}",
                 f"{measured['cpu_seconds']:.1f}", f"{cpu_rate:,.0f}",
                 f"{measured['peak_mb']:,.0f}", _met(name, rate, float(measured["peak_mb"])))
            )  # fmt: skip
            print(f"{name}: {rows:,} rows in {measured['seconds']:.1f} s")
    body = "\n\n".join(
        [
            "## CDR and CEL history import",
            "Command: `.venv/bin/python -m bench.history_import` (also run by `python -m bench`).",
            f"Machine: {machine_line()}; load average {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after.",
            "Each import is `python -m ringtest --config examples/lab.toml import-... FILE` in "
            "a fresh process into a fresh SQLite store; rows/s is rows over the whole wall "
            "time, start-up included; CPU s is the process's user and system time from "
            "`wait4` (what the import costs whatever else the machine runs), rows/CPU s the "
            "rows over it; peak is the process's peak RSS from `wait4`. The CDR is "
            "`export_scale`'s synthetic cdr_csv; the CEL is the lab's own cel_custom file of "
            "every line's call type (212 rows, 13 calls) repeated with shifted times, "
            f"renumbered uniqueids and one of {DISTINCT_CALLERS:,} caller numbers per copy.",
            table(
                ("command", "rows", "seconds", "rows/s", "CPU s", "rows/CPU s", "peak MB", "goal"),
                results,
            ),
        ]
    )
    write_section("history-import", body)


if __name__ == "__main__":
    main()
