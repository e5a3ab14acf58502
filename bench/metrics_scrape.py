"""Benchmark: what one /metrics scrape costs with 10,000 callbacks owed in 50 departments.

The exporter (`ringtest.web.metrics.build_metrics`) runs as a process would run
it: a temporary SQLite store holding `OWED` open or overdue callback
obligations spread over `DEPARTMENTS` departments of `LINES_PER_DEPARTMENT`
lines each, plus `CLOSED` closed ones (a year of history the owed count must
not read); a `RecordStream` through which `CALLS` calls of every outcome and
ring time have passed (so every label set of the counters and the ring-time
histogram has samples) and on which `RINGING` calls ring now; a `ListenerStats`
of a real pipeline. The ASGI app is served by a real uvicorn on 127.0.0.1 port 0
and scraped over HTTP as Prometheus scrapes it (``Accept:
application/openmetrics-text``, gzip), `SCRAPES` times in a row after `WARM_UP`
scrapes; each scrape is timed from the request to the last byte of the body
(monotonic clock). The owed-callback count alone (`owed_callbacks`, the one SQL
query of a scrape) is timed the same way. Goal: under 50 ms per scrape.

Run: ``.venv/bin/python -m bench.metrics_scrape`` (``RINGTEST_BENCH_QUICK=1``: 100 scrapes).
"""

from __future__ import annotations

import gc
import gzip
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from ami_listener.lines import LineDirectory, MonitoredLine
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline
from ami_listener.stats import ListenerStats
from ami_listener.tracker import CallTracker
from bench.results import machine_line, quick_mode, table, write_section
from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
)
from ringtest.core.standards import RingRule, Standards
from ringtest.core.stream import CallEnded, CallRinging, RecordStream
from ringtest.store import Store
from ringtest.store.owed_callbacks import owed_callbacks
from ringtest.store.record_tables import OBLIGATIONS
from ringtest.web.metrics import build_metrics

DEPARTMENTS, LINES_PER_DEPARTMENT = 50, 2
OWED, CLOSED = 10_000, 100_000
CALLS, RINGING = 20_000, 200
SCRAPES, QUICK_SCRAPES, WARM_UP = 1000, 100, 10
GOAL_MS = 50.0
NOW = datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
PROMETHEUS_HEADERS = {
    "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
}
"""What Prometheus 2.42 sends with each scrape."""


def lines() -> list[MonitoredLine]:
    return [
        MonitoredLine(f"{2000 + number}", f"Department {number // LINES_PER_DEPARTMENT:02d}")
        for number in range(DEPARTMENTS * LINES_PER_DEPARTMENT)
    ]


def obligations(count: int, status_of: Callable[[int], CallbackStatus], start: datetime):
    """`count` obligations over every line, one a minute from `start`."""
    monitored = lines()
    for number in range(count):
        line = monitored[number % len(monitored)]
        missed_at = start + timedelta(minutes=number)
        status = status_of(number)
        closed = status is CallbackStatus.CALLED_BACK
        yield CallbackObligation(
            call_id=f"{int(missed_at.timestamp())}.{number}",
            pbx="bench",
            caller=f"+4416329{number % 100_000:05d}",
            line=line.line,
            department=line.department,
            missed_at=missed_at,
            deadline_at=missed_at + timedelta(days=1),
            status=status,
            closed_at=missed_at + timedelta(hours=2) if closed else None,
            working_seconds=7200.0 if closed else None,
            connected=True if closed else None,
        )


def fill_store(store: Store) -> None:
    """The owed obligations (a quarter overdue), then a year of closed ones, inserted in
    bulk through the store's own table and row mapping."""
    owed_since = NOW - timedelta(minutes=OWED)
    history_since = owed_since - timedelta(days=365)
    batches = [
        obligations(OWED, _owed_status, owed_since),
        obligations(CLOSED, lambda _: CallbackStatus.CALLED_BACK, history_since),
    ]
    with store.engine.begin() as connection:
        for records in batches:
            rows = [OBLIGATIONS.row(record) for record in records]
            connection.execute(OBLIGATIONS.table.insert(), rows)


def _owed_status(number: int) -> CallbackStatus:
    return CallbackStatus.OVERDUE if number % 4 == 0 else CallbackStatus.OPEN


OUTCOMES = (
    (CallOutcome.ANSWERED, AnsweredBy.PERSON),
    (CallOutcome.ABANDONED, AnsweredBy.NONE),
    (CallOutcome.VOICEMAIL, AnsweredBy.VOICEMAIL),
    (CallOutcome.BUSY, AnsweredBy.NONE),
    (CallOutcome.FAILED, AnsweredBy.NONE),
    (CallOutcome.INCOMPLETE, AnsweredBy.NONE),
)


def ended_call(number: int, line: MonitoredLine, ring_rule: RingRule) -> CallRecord:
    """Call `number` to `line`: its outcome by turn, its ring time 0-70 s (none when the
    line was busy or the call failed)."""
    outcome, answered_by = OUTCOMES[number % len(OUTCOMES)]
    rang = outcome not in (CallOutcome.BUSY, CallOutcome.FAILED)
    ring_seconds = (number * 7.3) % 70.0 if rang else None
    started_at = NOW - timedelta(seconds=CALLS - number)
    rings = ring_rule.rings(ring_seconds) if rang else None
    return CallRecord(
        call_id=f"{int(started_at.timestamp())}.{number}",
        pbx="bench",
        line=line.line,
        department=line.department,
        caller=f"+4416329{number % 100_000:05d}",
        dialled=line.line,
        started_at=started_at,
        ring_started_at=started_at if rang else None,
        answered_at=None if answered_by is AnsweredBy.NONE else started_at,
        answered_by=answered_by,
        ended_at=started_at + timedelta(seconds=ring_seconds or 1.0),
        ring_seconds=ring_seconds,
        rings=rings,
        outcome=outcome,
        within_standard=answered_by is AnsweredBy.PERSON and rings <= ring_rule.answer_within_rings,
    )


def publish_calls(stream: RecordStream, ring_rule: RingRule) -> None:
    """`CALLS` ended calls over every line and outcome, then `RINGING` ringing now."""
    monitored = lines()
    for number in range(CALLS):
        line = monitored[(number // len(OUTCOMES)) % len(monitored)]
        stream.publish([CallEnded(ended_call(number, line, ring_rule))])
    ringing = []
    for number in range(RINGING):
        line = monitored[number % len(monitored)]
        began = NOW - timedelta(seconds=number % 90)
        ringing.append(
            CallRinging(f"ringing.{number}", "bench", line.line, line.department, "", False, began)
        )
    stream.publish(ringing)


class Serving:
    """An ASGI app on a real uvicorn, 127.0.0.1, a port the kernel picks."""

    def __init__(self, app) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="metrics-http", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/metrics"

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def timed(action: Callable[[], object], repeats: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds (this process: server and client) of each of `repeats`
    calls of `action`, after `WARM_UP` untimed ones."""
    for _ in range(WARM_UP):
        action()
    wall, cpu = [], []
    for _ in range(repeats):
        began, began_cpu = time.perf_counter(), time.process_time()
        action()
        cpu.append((time.process_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)
    return wall, cpu


def p99(milliseconds: list[float]) -> float:
    return statistics.quantiles(milliseconds, n=100, method="inclusive")[98]


def summary_row(what: str, milliseconds: list[float]) -> tuple[str, ...]:
    """`what` with the median, p99 and max of `milliseconds`."""
    figures = (statistics.median(milliseconds), p99(milliseconds), max(milliseconds))
    return (what, *(f"{figure:.2f}" for figure in figures))


@dataclass(frozen=True)
class Measured:
    """One run: milliseconds per scrape, as the process starts and after `gc.freeze()`, and
    per owed-callback count; and what was scraped."""

    scrape_ms: list[float]
    scrape_cpu_ms: list[float]
    frozen_ms: list[float]
    frozen_cpu_ms: list[float]
    query_ms: list[float]
    samples: int
    body_bytes: int
    owed: int


def measure(work: Path, scrapes: int) -> Measured:
    standards = Standards()
    with Store.open(f"sqlite:///{work / 'ringtest.db'}") as store:
        fill_store(store)
        metrics = build_metrics(standards, store, {"bench": lines()}, clock=lambda: NOW)
        tracker = CallTracker("bench", LineDirectory(lines()), standards)
        metrics.watch_listener(ListenerStats(CallPipeline(tracker, CallbackLedger(standards))))
        stream = RecordStream()
        stream.subscribe("metrics", metrics.subscriber.handle)
        publish_calls(stream, standards.ring_rule)
        with Serving(metrics.app) as url:
            request = urllib.request.Request(url, headers=PROMETHEUS_HEADERS)

            def scrape() -> bytes:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.read()

            body = gzip.decompress(scrape())
            scrape_ms, scrape_cpu_ms = timed(scrape, scrapes)
            gc.freeze()
            try:
                frozen_ms, frozen_cpu_ms = timed(scrape, scrapes)
            finally:
                gc.unfreeze()
        query_ms, _ = timed(lambda: owed_callbacks(store, NOW), scrapes)
        owed = sum(row.owed for row in owed_callbacks(store, NOW))
    samples = sum(1 for line in body.decode().splitlines() if not line.startswith("#"))
    return Measured(
        scrape_ms, scrape_cpu_ms, frozen_ms, frozen_cpu_ms, query_ms, samples, len(body), owed
    )


def verdict(milliseconds: list[float]) -> str:
    """The goal against the median and the p99 of `milliseconds`."""
    median, worst = statistics.median(milliseconds), p99(milliseconds)
    met = "met" if worst < GOAL_MS else "missed"
    return f"median {median:.1f} ms, p99 **{worst:.1f} ms** ({met})"


def main() -> None:
    scrapes = QUICK_SCRAPES if quick_mode() else SCRAPES
    with tempfile.TemporaryDirectory(prefix="ringtest-bench-metrics-") as work:
        run = measure(Path(work), scrapes)
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    print(f"/metrics: {verdict(run.scrape_ms)}; after gc.freeze(): {verdict(run.frozen_ms)}")
    rows = [
        summary_row("whole scrape over HTTP (OpenMetrics, gzip), wall", run.scrape_ms),
        summary_row("the same, CPU of server and client", run.scrape_cpu_ms),
        summary_row("whole scrape after `gc.freeze()`, wall", run.frozen_ms),
        summary_row("the same, CPU of server and client", run.frozen_cpu_ms),
        summary_row("the owed-callback count alone (its SQL), wall", run.query_ms),
    ]
    workload = (
        f"Exposition: {run.samples:,} samples, {run.body_bytes:,} bytes. Store: SQLite, "
        f"{run.owed:,} callbacks owed (missed over the last week) and {CLOSED:,} closed ones, "
        f"{DEPARTMENTS} departments of {LINES_PER_DEPARTMENT} lines. {CALLS:,} calls of every "
        f"outcome through the stream (every counter and histogram label set filled), "
        f"{RINGING} calls ringing now, a listener's stats. {scrapes:,} scrapes after "
        f"{WARM_UP} untimed, over HTTP to a real uvicorn on loopback, as Prometheus asks "
        "(OpenMetrics, gzip); then as many again after `gc.freeze()`, which moves every "
        "object alive to the collector's permanent generation, as a daemon would once "
        "started."
    )
    write_section(
        "metrics-scrape",
        "\n\n".join(
            [
                "## /metrics scrape cost",
                "Command: `.venv/bin/python -m bench.metrics_scrape` "
                "(also run by `python -m bench`).",
                f"Machine: {machine_line()}; load average after the run {load}.",
                workload,
                table(["what", "median ms", "p99 ms", "max ms"], rows),
                f"Goal: a scrape under {GOAL_MS:.0f} ms. As the process starts: "
                f"{verdict(run.scrape_ms)}; after `gc.freeze()`: {verdict(run.frozen_ms)}.",
            ]
        ),
    )


if __name__ == "__main__":
    main()
