"""Benchmark: the weekly report over 1,000,000 and 10,000,000 stored calls.

For each size, a temporary SQLite database is made with `Store.open` (the real
schema) and filled with synthetic live calls spread over 12 weeks, six
departments, realistic outcomes and ring times, plus one callback obligation per
missed call. Calls are stored in start order, as the listener stores them (as
they end) and a CDR import reads them. Filling uses sqlite3 `executemany` in
200,000-row batches of numpy-generated rows in the store's own column format
(booleans as 0/1, as SQLAlchemy writes them), with the calls indexes dropped
during the load and rebuilt after (the same database `Store.save_calls` would
leave, made faster). Then a fresh process runs what `ringtest report --week`
runs (`gather_report` + `write_report`: PNGs, PDF, CSVs, HTML) and is timed,
its peak memory read from the kernel (`wait4` ru_maxrss).

The report has the database sum calls and callback obligations per time bucket
(`analysis.stored`, `ringtest.store.aggregates`: SQL GROUP BY, buckets never
straddling a local day) so only sums cross into Python; obligations are summed
on a second connection while the calls are.

Run: ``.venv/bin/python -m bench.report_scale`` (``RINGTEST_BENCH_QUICK=1``: 100k and 1M).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.results import machine_line, quick_mode, table, write_section

SIZES = (1_000_000, 10_000_000)
QUICK_SIZES = (100_000, 1_000_000)
BATCH_ROWS = 200_000
GOALS_SECONDS = {1_000_000: 10.0, 10_000_000: 120.0}
MEMORY_GOAL_MB = 4096
NOTE = os.environ.get("RINGTEST_BENCH_NOTE", "")
"""A sentence for RESULTS.md about the run, e.g. what else loaded the machine."""
WEEK = "2026-W47"
FIRST_MONDAY = datetime(2026, 9, 7, tzinfo=UTC)  # 12 weeks ending with 2026-W47
DEPARTMENTS = (
    ("2000", "Switchboard"),
    ("2001", "Council Tax"),
    ("2002", "Housing"),
    ("benefits", "Benefits"),
    ("2004", "Planning"),
    ("2005", "Licensing"),
)
OUTCOMES = np.array(["answered", "abandoned", "voicemail", "busy", "failed"])
OUTCOME_SHARES = (0.80, 0.10, 0.05, 0.03, 0.02)


def fill(database: Path, calls: int, seed: int = 6) -> None:
    """Make `database` with the store's schema and `calls` synthetic live calls."""
    from ringtest.store import Store

    Store.open(f"sqlite:///{database}").close()
    connection = sqlite3.connect(database)
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'calls' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        connection.execute(f"DROP INDEX {name}")
    generator = np.random.default_rng(seed)
    for first in range(0, calls, BATCH_ROWS):
        calls_rows, owed_rows = _batch(generator, first, min(BATCH_ROWS, calls - first), calls)
        connection.executemany(f"INSERT INTO calls VALUES ({', '.join('?' * 18)})", calls_rows)
        connection.executemany(
            f"INSERT INTO callback_obligations VALUES ({', '.join('?' * 12)})", owed_rows
        )
        connection.commit()
    for _name, sql in indexes:
        connection.execute(sql)
    connection.commit()
    connection.close()


def _batch(generator: np.random.Generator, first: int, size: int, calls: int) -> tuple[list, list]:
    """Calls first..first+size of `calls`, at uniform random times of their share of the
    12 weeks, in start order (as the listener stores them, as calls end)."""
    span = 12 * 7 * 86400
    low, high = span * first // calls, span * (first + size) // calls
    seconds = np.sort(generator.integers(low, max(high, low + 1), size))
    started = np.datetime64(FIRST_MONDAY.replace(tzinfo=None)) + seconds.astype("timedelta64[s]")
    text = np.datetime_as_string(started, unit="us")
    department = generator.integers(0, len(DEPARTMENTS), size)
    outcome = OUTCOMES[generator.choice(len(OUTCOMES), size, p=OUTCOME_SHARES)]
    ring_seconds = np.round(generator.exponential(12.0, size), 3)
    rings = np.ceil(ring_seconds / 3.0).astype(int)
    person = outcome == "answered"
    calls, owed = [], []
    for index in range(size):
        line, name = DEPARTMENTS[department[index]]
        at = text[index].replace("T", " ")
        call_id = f"{first + index}.0"
        answered = bool(person[index])
        calls.append(
            (
                call_id,
                "bench",
                line,
                name,
                "+441382000100",
                line,
                at,
                at,
                at if answered else None,
                "person" if answered else "none",
                at,
                float(ring_seconds[index]),
                int(rings[index]),
                outcome[index],
                bool(answered and rings[index] <= 7),
                False,
                None,
                None,
            )
        )
        if not answered:
            owed.append(
                (
                    call_id,
                    "bench",
                    "+441382000100",
                    line,
                    name,
                    at,
                    at,
                    "called_back",
                    at,
                    None,
                    True,
                    float(ring_seconds[index]) * 100,
                )
            )
    return calls, owed


def run_report(url: str, out_dir: Path) -> None:
    """What `ringtest report --week WEEK` does, on the database at `url` (run in a fresh
    process; `bench.pg_scale` runs it on PostgreSQL too)."""
    from zoneinfo import ZoneInfo

    from analysis.report import week_period, write_report
    from analysis.report_data import gather_report
    from ringtest.config import load_settings
    from ringtest.store import Store

    config = Path(__file__).resolve().parent.parent / "examples" / "lab.toml"
    settings = load_settings(config, overrides={"store.url": url}, environ={})
    period = week_period(WEEK, ZoneInfo(settings.calendar.timezone))
    with Store.open(settings.store_url()) as store:
        data = gather_report(
            settings, store, period.since, period.until, period.title, period.when, now=period.until
        )
    write_report(data, out_dir)


def measure(calls: int, work: Path) -> dict[str, float]:
    database = work / f"calls-{calls}.db"
    started = time.perf_counter()
    fill(database, calls)
    fill_seconds = time.perf_counter() - started
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.report_scale",
            "--report",
            f"sqlite:///{database}",
            str(work / "out"),
        ],
        cwd=Path(__file__).resolve().parent.parent,
    )
    _pid, status, usage = os.wait4(child.pid, 0)
    report_seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the report over {calls:,} calls failed")
    database.unlink()
    return {
        "fill": fill_seconds,
        "report": report_seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "load": f"{load_before:.1f} / {os.getloadavg()[0]:.1f}",
    }


def main() -> None:
    sizes = QUICK_SIZES if quick_mode() else SIZES
    rows = []
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-report-") as work:
        for calls in sizes:
            result = measure(calls, Path(work))
            goal = GOALS_SECONDS.get(calls)
            met = ""
            if goal is not None:
                within = result["report"] < goal and result["peak_mb"] < MEMORY_GOAL_MB
                met = f" ({'met' if within else 'missed'}: < {goal:.0f} s, < 4 GB)"
            rows.append(
                (
                    f"{calls:,}",
                    f"{result['fill']:.1f}",
                    f"{result['report']:.1f}{met}",
                    f"{result['peak_mb']:,.0f}",
                    result["load"],
                )
            )
            print(
                f"{calls:,} calls: report {result['report']:.1f} s, peak {result['peak_mb']:.0f} MB"
            )
    body = "\n\n".join(
        part
        for part in [
            "## Weekly report over millions of stored calls",
            "Command: `.venv/bin/python -m bench.report_scale` (also run by `python -m bench`).",
            f"Machine: {machine_line()}.",
            "Each size: a fresh SQLite database (the store's schema) filled with synthetic live "
            "calls over 12 weeks and 6 departments (80 % answered) plus one callback obligation "
            "per missed call, loaded with sqlite3 executemany (indexes rebuilt after). The report "
            f"(`gather_report` + `write_report` for {WEEK}: 4 PNGs, the PDF, CSVs, HTML) runs in "
            "a fresh process; its wall time includes starting Python and importing pandas and "
            "matplotlib. Calls are stored in start order (as the listener stores them). Path "
            "measured: `analysis.stored` — the database sums calls and callback obligations per "
            "time bucket (SQL GROUP BY through SQLAlchemy Core; 1-hour buckets here, as "
            "Europe/London changes its clocks within the 12 weeks), only the sums reach pandas; "
            "obligations are summed on a second connection while the calls are.",
            NOTE,
            table(
                (
                    "stored calls",
                    "fill (s)",
                    "report (s)",
                    "report peak memory (MB)",
                    "load average before / after the report (2 cores)",
                ),
                rows,
            ),
        ]
        if part
    )
    write_section("report-scale", body)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--report"]:
        run_report(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
