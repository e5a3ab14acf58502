"""Benchmark: PostgreSQL at scale, side by side with SQLite in one run (issue 16).

1. `Store.save_calls`: calls/s into a fresh store (new calls) and again (every call
   already stored: the upsert replaces or merges), median of `SAVE_REPETITIONS`,
   on SQLite (executemany), PostgreSQL (binary COPY into a staging table and one
   upsert, `ringtest.store.bulk_copy`) and, for comparison in the same run,
   PostgreSQL through the executemany path it used before. Then `WRITERS`
   processes save their own PBX's calls into one PostgreSQL at once: calls/s of
   them all, first start to last commit.
2. The weekly report (`bench.report_scale.run_report`, in a fresh process: what
   `ringtest report --week` runs) over stored calls filled as `report_scale`
   fills them, on SQLite and PostgreSQL in turn; SQLite only up to
   `SQLITE_MAX_CALLS` (its Python fill takes 15 minutes and 30 GB at 100M).
3. Sizing: bytes per stored call (SQLite: the calls table and its indexes from
   `dbstat`, and the whole file; PostgreSQL: `pg_total_relation_size`), and calls
   per day one listener core carries: the whole AMI path (`bench.ami_replay`'s
   reader 5: tracker, ledger, store writer) over its CPU seconds.

PostgreSQL is the cluster of $RINGTEST_BENCH_PG_URL, else the one scripts/postgres-up
starts; the bench makes its own database there (`bench.pg_fill`, as root) and
drops it at the end, so the tests' database is untouched.

Run: ``.venv/bin/python -m bench.pg_scale`` (reports over 1M calls; quick: 100k).
The big run: ``RINGTEST_BENCH_SCALE_SIZES=10000000,100000000 .venv/bin/python -m
bench.pg_scale`` (about 75 GB free disk and an hour for 100M).
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import pg_fill
from bench.ami_replay import timed, whole_path_reader
from bench.replay_server import serving
from bench.report_scale import fill as fill_sqlite
from bench.results import machine_line, median, quick_mode, table, write_section
from bench.streams import BANNER, calls_for_events, load_shapes, plan_calls, stream_bytes
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord
from ringtest.store import Store
from ringtest.store.record_tables import CALLS
from ringtest.store.upserts import save_by_executemany

SAVE_CALLS, QUICK_SAVE_CALLS = 200_000, 50_000
SAVE_REPETITIONS = 3
WRITERS = 2
REPORT_SIZES, QUICK_REPORT_SIZES = (1_000_000,), (100_000,)
SIZES_VARIABLE = "RINGTEST_BENCH_SCALE_SIZES"
SQLITE_MAX_CALLS = 10_000_000
GOAL_SAVE_CALLS_PER_SECOND = 100_000
GOALS_REPORT_SECONDS = {10_000_000: 30.0, 100_000_000: 300.0}
LISTENER_EVENTS, LISTENER_REPETITIONS = 200_000, 3
SECONDS_PER_DAY = 86_400
REPO = Path(__file__).resolve().parent.parent
NOTE = os.environ.get("RINGTEST_BENCH_NOTE", "")
"""A sentence for RESULTS.md about the run, e.g. what else loaded the machine."""

Saver = Callable[[Store, list[CallRecord]], object]


def bench_calls(count: int, pbx: str = "bench") -> list[CallRecord]:
    """`count` finished calls, one a second: 80 % answered by a person, the rest abandoned."""
    start = datetime(2026, 9, 7, 9, tzinfo=UTC)
    calls = []
    for number in range(count):
        at = start + timedelta(seconds=number)
        answered = number % 5 != 0
        calls.append(
            CallRecord(
                call_id=f"{1788771600 + number}.{number % 97}",
                pbx=pbx,
                line="2001",
                department="Council Tax",
                caller="+441382000100",
                dialled="2001",
                started_at=at,
                ring_started_at=at + timedelta(seconds=0.4),
                answered_at=at + timedelta(seconds=9.5) if answered else None,
                answered_by=AnsweredBy.PERSON if answered else AnsweredBy.NONE,
                ended_at=at + timedelta(seconds=95),
                ring_seconds=9.1 if answered else 30.0,
                rings=4 if answered else 10,
                outcome=CallOutcome.ANSWERED if answered else CallOutcome.ABANDONED,
                within_standard=answered,
                is_test_call=False,
                ivr_seconds=None,
                gap_note=None,
            )
        )
    return calls


def save_with_store(store: Store, calls: list[CallRecord]) -> object:
    return store.save_calls(calls)


def save_by_executemany_path(store: Store, calls: list[CallRecord]) -> object:
    """The PostgreSQL path before COPY: the upsert as an executemany, 5,000 rows at a time."""
    with store.engine.begin() as connection:
        return save_by_executemany(connection, CALLS, calls)


def save_rates(new_store: Callable[[], str], calls: list[CallRecord], save: Saver) -> list[float]:
    """Median calls/s saving `calls` into a fresh store, then saving them again."""
    new, again = [], []
    for _ in range(SAVE_REPETITIONS):
        with Store.open(new_store()) as store:
            started = time.perf_counter()
            save(store, calls)
            new.append(len(calls) / (time.perf_counter() - started))
            started = time.perf_counter()
            save(store, calls)
            again.append(len(calls) / (time.perf_counter() - started))
    return [median(new), median(again)]


def _writer(url: str, pbx: str, calls: int, ready: object, go: object, done: object) -> None:
    """One writer process: its calls made, it waits for `go`, saves, and reports its end."""
    records = bench_calls(calls, pbx)
    with Store.open(url) as store:
        ready.put(True)  # type: ignore[attr-defined]
        go.wait()  # type: ignore[attr-defined]
        store.save_calls(records)
        done.put(time.perf_counter())  # type: ignore[attr-defined]


def concurrent_rate(url: str, calls_each: int) -> float:
    """Calls/s of `WRITERS` processes saving `calls_each` calls each into one store."""
    Store.open(url).close()
    context = multiprocessing.get_context("spawn")
    ready, done, go = context.Queue(), context.Queue(), context.Event()
    writers = [
        context.Process(target=_writer, args=(url, f"site-{n}", calls_each, ready, go, done))
        for n in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    for _ in writers:
        ready.get(timeout=300)
    started = time.perf_counter()
    go.set()
    ended = max(done.get(timeout=600) for _ in writers)
    for writer in writers:
        writer.join()
    with Store.open(url) as store, store.reading() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM calls").scalar_one()
    if stored != WRITERS * calls_each:
        raise AssertionError(f"{stored} calls stored of {WRITERS * calls_each}")
    return stored / (ended - started)


def report_seconds(url: str, work: Path) -> tuple[float, float]:
    """Wall seconds and peak MB of the weekly report over the store at `url`, in a fresh
    process."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.report_scale", "--report", url, str(work / "out")], cwd=REPO
    )
    started = time.perf_counter()
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the report over {url} failed")
    return seconds, usage.ru_maxrss / 1024


def sqlite_calls_bytes(database: Path) -> int:
    """Bytes of the calls table and its indexes in an SQLite file (`dbstat`)."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_master "
            "WHERE tbl_name = 'calls')"
        ).fetchone()[0]


def listener_calls_per_cpu_second() -> tuple[float, int, int]:
    """Median calls per CPU-second of the whole AMI path (`ami_replay`'s reader 5), with
    the stream's events and calls."""
    shapes = load_shapes()
    calls = calls_for_events(shapes, LISTENER_EVENTS)
    stream = stream_bytes(list(plan_calls(shapes, calls)))
    events = stream.count(b"\r\n\r\n")
    read = whole_path_reader(events, calls)
    with serving(stream.removeprefix(BANNER)) as port:
        runs = [timed(read, port) for _ in range(LISTENER_REPETITIONS)]
    return median([calls / run.cpu_seconds for run in runs]), events, calls


def report_sizes() -> tuple[int, ...]:
    if text := os.environ.get(SIZES_VARIABLE):
        return tuple(int(size) for size in text.split(","))
    return QUICK_REPORT_SIZES if quick_mode() else REPORT_SIZES


def measure_saves(pg_url: str, work: Path) -> tuple[list[tuple[object, ...]], float]:
    """The save rows of the table (engine, path, new calls/s, again calls/s) and the
    concurrent writers' calls/s."""
    calls = bench_calls(QUICK_SAVE_CALLS if quick_mode() else SAVE_CALLS)
    fresh = iter(range(1_000_000))
    sqlite_store = lambda: f"sqlite:///{work / f'save-{next(fresh)}.db'}"  # noqa: E731
    pg_store = lambda: pg_fill.schema_url(pg_url, f"save_{next(fresh)}")  # noqa: E731
    paths = (
        ("SQLite", "executemany (unchanged)", sqlite_store, save_with_store),
        ("PostgreSQL", "binary COPY + one upsert (now)", pg_store, save_with_store),
        ("PostgreSQL", "executemany (before)", pg_store, save_by_executemany_path),
    )
    rows = []
    for engine, path, new_store, save in paths:
        new, again = save_rates(new_store, calls, save)
        rows.append((engine, path, f"{new:,.0f}", f"{again:,.0f}"))
        print(f"save_calls {engine} {path}: {new:,.0f} new, {again:,.0f} again calls/s")
    writers = concurrent_rate(pg_fill.schema_url(pg_url, "writers"), len(calls))
    print(f"{WRITERS} writers: {writers:,.0f} calls/s")
    return rows, writers


def measure_reports(
    pg_url: str, work: Path, measured: Callable[[list[dict[str, object]]], None]
) -> None:
    """Per size and engine: fill seconds, report seconds, peak MB, bytes per call; each
    handed to `measured` with those before it as it comes (a big run keeps what it did)."""
    results: list[dict[str, object]] = []
    for calls in report_sizes():
        if calls <= SQLITE_MAX_CALLS:
            database = work / f"report-{calls}.db"
            started = time.perf_counter()
            fill_sqlite(database, calls)
            filled = time.perf_counter() - started
            seconds, peak = report_seconds(f"sqlite:///{database}", work)
            results.append(
                dict(
                    engine="SQLite",
                    calls=calls,
                    fill=filled,
                    report=seconds,
                    peak=peak,
                    calls_bytes=sqlite_calls_bytes(database),
                    all_bytes=database.stat().st_size,
                    load=os.getloadavg()[0],
                )
            )
            database.unlink()
            measured(results)
        url = pg_fill.schema_url(pg_url, "report")
        Store.open(url).close()
        started = time.perf_counter()
        pg_fill.fill(url, calls)
        filled = time.perf_counter() - started
        seconds, peak = report_seconds(url, work)
        size = pg_fill.sizes(url)
        results.append(
            dict(
                engine="PostgreSQL",
                calls=calls,
                fill=filled,
                report=seconds,
                peak=peak,
                calls_bytes=size["calls"],
                all_bytes=size["all"],
                load=os.getloadavg()[0],
            )
        )
        pg_fill.schema_url(pg_url, "report")  # emptied: the next size needs the disk
        measured(results)


def _goal(calls: int, seconds: float) -> str:
    goal = GOALS_REPORT_SECONDS.get(calls)
    if goal is None:
        return f"{seconds:.1f}"
    return f"{seconds:.1f} ({'met' if seconds < goal else 'missed'}: < {goal:.0f} s)"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-pg-") as scratch:
        work = Path(scratch)
        with pg_fill.bench_database(pg_fill.server_url()) as pg_url:
            save_rows, writers = measure_saves(pg_url, work)
            listener = listener_calls_per_cpu_second()
            print(f"listener: {listener[0]:,.0f} calls per CPU-s")

            def measured(reports: list[dict[str, object]]) -> None:
                latest = reports[-1]
                print(f"{latest['engine']} {latest['calls']:,}: report {latest['report']:.1f} s")
                write_section("pg-scale", section(save_rows, writers, listener, reports))

            measure_reports(pg_url, work, measured)


def section(
    save_rows: list[tuple[object, ...]],
    writers: float,
    listener: tuple[float, int, int],
    reports: list[dict[str, object]],
) -> str:
    """The RESULTS.md section of what was measured so far."""
    per_cpu_second, events, stream_calls = listener
    copy_rate = float(str(save_rows[1][2]).replace(",", ""))
    verdict = "met" if copy_rate >= GOAL_SAVE_CALLS_PER_SECOND else "missed"
    report_rows = [
        (
            f"{r['calls']:,}",
            r["engine"],
            f"{r['fill']:.0f}",
            _goal(int(r["calls"]), float(r["report"])),
            f"{r['peak']:,.0f}",
            f"{int(r['calls_bytes']) / int(r['calls']):,.0f}",
            f"{int(r['all_bytes']) / int(r['calls']):,.0f}",
            f"{r['load']:.1f}",
        )
        for r in reports
    ]
    calls_per_day = per_cpu_second * SECONDS_PER_DAY
    save_count = QUICK_SAVE_CALLS if quick_mode() else SAVE_CALLS
    command = ".venv/bin/python -m bench.pg_scale"
    sizes = os.environ.get(SIZES_VARIABLE)
    if sizes:
        command = f"{SIZES_VARIABLE}={sizes} {command}"
    return "\n\n".join(
        part
        for part in [
            "## PostgreSQL at scale, side by side with SQLite",
            f"Command: `{command}` (without `{SIZES_VARIABLE}`, as `python -m bench` runs it, "
            "the reports are over 1,000,000 calls).",
            f"Machine: {machine_line()}. PostgreSQL 15 as scripts/postgres-up configures it "
            "(shared_buffers 128 MB, work_mem 4 MB: Debian's defaults), on the same 2 cores.",
            NOTE,
            f"**Saving calls** (`Store.save_calls` of {save_count:,} calls in one call, one "
            "transaction; new: into an empty store, again: every call already stored, so each "
            f"is an upsert that replaces it; median of {SAVE_REPETITIONS}):",
            table(("engine", "path", "new calls/s", "again calls/s"), save_rows),
            f"Goal >= {GOAL_SAVE_CALLS_PER_SECOND:,} calls/s on PostgreSQL: **{copy_rate:,.0f}** "
            f"({verdict}). {WRITERS} writer processes (one PBX each) saving at once into one "
            f"PostgreSQL: **{writers:,.0f}** calls/s in all, every call stored once.",
            "**The weekly report** (`bench.report_scale`'s fill and report: 12 weeks, 6 "
            "departments, one obligation per missed call; the report sums all 12 weeks for its "
            "trend; its wall time includes starting Python and importing pandas and matplotlib). "
            "PostgreSQL is filled by the server itself (`bench.pg_fill`), then vacuumed and "
            f"analysed. SQLite runs up to {SQLITE_MAX_CALLS:,} calls.",
            table(
                (
                    "stored calls",
                    "engine",
                    "fill (s)",
                    "report (s)",
                    "report peak (MB)",
                    "bytes per call: calls table + indexes",
                    "bytes per call: whole store",
                    "load average after",
                ),
                report_rows,
            ),
            f"**Listener core:** the whole AMI path (`ami_replay`'s reader 5: tracker, ledger, "
            f"SQLite store writer) over {events:,} events ({stream_calls:,} calls) took "
            f"{1 / per_cpu_second * 1e6:,.0f} µs of CPU per call, median of "
            f"{LISTENER_REPETITIONS}: **{per_cpu_second:,.0f} calls per CPU-second, "
            f"{calls_per_day / 1e6:,.0f} million calls a day per core** at full load.",
        ]
        if part
    )


if __name__ == "__main__":
    main()
