"""A real Prometheus scrapes /metrics while lab calls run, and agrees with the store.

Every part is real: the lab Asterisk, lab citizens calling from sipp (each with
its own number, so no call is a ring test), the listener in this process
publishing on a `RecordStream` to the store and to the metrics subscriber, the
ASGI app on a real uvicorn bound to 127.0.0.1 port 0, and Debian's prometheus
binary on loopback with a temporary data directory, scraping every second and
evaluating docker/prometheus's rules. PromQL over Prometheus's HTTP API must
return the calls by outcome, the within-standard ratio (raw and by the
recording rule) and the callbacks owed that the store holds, as the weekly
report reads them (`stored_tally` and `compliance_rows`).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
import yaml

from analysis.compliance import compliance_rows
from analysis.periods import Period
from analysis.stored import stored_tally
from ringtest.config import load_settings
from ringtest.config.adapters import (
    metric_rules_of,
    monitored_line_of,
    monitored_lines_by_pbx,
    standards_of,
)
from ringtest.core.records import CallbackStatus, CallOutcome
from ringtest.core.stream import RecordStream
from ringtest.lab.calls import lab_call
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import BackgroundListener, make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from ringtest.web.metrics import build_metrics
from tests.conftest import wait_until

pytestmark = pytest.mark.lab

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "docker" / "prometheus"
SECONDS_PER_RING = 1.0
"""A 1 s cadence: the standard of 7 rings is 7 s, so a late answer takes seconds, not 21."""

CALLS = [
    dict(target="2001", answer="1000", caller="+441382000141"),
    dict(target="2002", answer="9500", caller="+441382000142"),
    dict(target="2003", answer="2500", caller="+441382000143"),
    dict(target="2001", answer="never", give_up_ms=3000, caller="+441382000144"),
    dict(target="2005", caller="+441382000145"),
]
"""Council Tax answers in 1 ring, Housing in 10 (late), Benefits' queue in 3; a caller
gives up on Council Tax after 3 rings; Licensing is busy."""
CALLERS = {call["caller"] for call in CALLS}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MetricsServer:
    """The /metrics ASGI app on a real uvicorn, 127.0.0.1, a port the kernel picks."""

    def __init__(self, app) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="metrics-http", daemon=True)

    def __enter__(self) -> MetricsServer:
        self.thread.start()
        wait_until(lambda: self.server.started, 10, "uvicorn did not start")
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class PrometheusServer:
    """Debian's prometheus on loopback, its own data directory, scraping `target` each second."""

    def __init__(self, work: Path, target: str) -> None:
        self.port = free_port()
        self.work = work
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(PROMETHEUS_DIR / name) for name in RULE_FILES],
            "scrape_configs": [{"job_name": "ringtest", "static_configs": [{"targets": [target]}]}],
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))

    def __enter__(self) -> PrometheusServer:
        executable = shutil.which("prometheus")
        if executable is None:
            pytest.fail("prometheus not found: apt-get install prometheus (scripts/system-deps)")
        self.log = (self.work / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [
                executable,
                f"--config.file={self.work / 'prometheus.yml'}",
                f"--storage.tsdb.path={self.work / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._ready, 30, f"prometheus not ready: see {self.work / 'prometheus.log'}")
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.log.close()

    def _ready(self) -> bool:
        assert self.process.poll() is None, (self.work / "prometheus.log").read_text()[-2000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
        """An instant query's vector: each series' labels (sorted pairs) to its value."""
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": promql}
        )
        with urllib.request.urlopen(url, timeout=10) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return {
            tuple(sorted(series["metric"].items())): float(series["value"][1])
            for series in answer["data"]["result"]
        }

    def scalar(self, promql: str) -> float:
        (value,) = self.query(promql).values()
        return value


RULE_FILES = ("recording.rules.yml", "alerts.rules.yml")


@pytest.fixture(scope="module")
def scraped(lab, tmp_path_factory):
    """Run the lab calls with the listener, /metrics and Prometheus up; return the store's
    report rows, its owed callbacks, its calls and the Prometheus that scraped it all.

    The calls wait for Prometheus's first scrape (its target discovery takes a few
    seconds): a series it first sees already at 1 shows no increase. Another suite's
    call the listener happens to see is in the store and in Prometheus alike."""
    work = tmp_path_factory.mktemp("prometheus")
    settings = load_settings(
        LAB_CONFIG,
        overrides={
            "store.url": f"sqlite:///{work / 'ringtest.db'}",
            "standards.seconds_per_ring": SECONDS_PER_RING,
        },
    )
    lines = [monitored_line_of(line) for line in settings.lines]
    stream = RecordStream()
    since = datetime.now(UTC) - timedelta(minutes=1)
    with Store.open(settings.store_url()) as store, StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        metrics = build_metrics(
            standards_of(settings),
            store,
            monitored_lines_by_pbx(settings),
            target_percent=settings.report.target_percent,
        )
        stream.subscribe("metrics", metrics.subscriber.handle)
        listener = make_listener(settings, store, stream)
        metrics.watch_listener(listener.stats)
        with (
            MetricsServer(metrics.app) as http,
            PrometheusServer(work, f"127.0.0.1:{http.port}") as prometheus,
        ):
            wait_until(
                lambda: prometheus.query('up{job="ringtest"} == 1'),
                failing="Prometheus did not scrape /metrics in time",
            )
            running = BackgroundListener(listener).start()
            try:
                with ThreadPoolExecutor(max_workers=len(CALLS)) as pool:
                    list(pool.map(lambda call: lab_call(**call), CALLS))
                wait_until(
                    lambda: {c.caller for c in store.calls()} >= CALLERS,
                    failing="the listener did not store every lab call in time",
                )
                stored = len(store.calls())
                wait_until(
                    lambda: (
                        prometheus.query('sum(ringtest_calls_total{source="live"})')
                        == {(): float(stored)}
                    ),
                    failing="Prometheus did not scrape the stored calls in time",
                )
                departments_called = {call.department for call in store.calls()}
                wait_until(
                    lambda: (
                        len(prometheus.query("department:ringtest_calls_offered:increase1h > 0"))
                        == len(departments_called)
                    ),
                    failing="Prometheus did not evaluate the recording rules in time",
                )
                rules = metric_rules_of(settings)
                until = datetime.now(UTC) + timedelta(minutes=1)
                rows = compliance_rows(
                    stored_tally(store, rules, since, until),
                    None,
                    rules,
                    Period.ALL,
                    since=since,
                    until=until,
                    groups=[(line.department,) for line in lines],
                )
                owed = Counter(ob.department for ob in store.obligations(CallbackStatus.OPEN))
                yield rows.set_index("department"), owed, store.calls(), prometheus
            finally:
                running.stop()
                writer.close()


def by(label: str, vector) -> dict[str, float]:
    return {dict(labels)[label]: value for labels, value in vector.items()}


def test_prometheus_counts_the_calls_by_outcome_the_store_holds(scraped):
    _, _, calls, prometheus = scraped
    stored = Counter(call.outcome.value for call in calls if not call.is_test_call)
    counted = prometheus.query('sum by (outcome) (ringtest_calls_total{source="live"})')
    assert {outcome: n for outcome, n in by("outcome", counted).items() if n} == stored
    assert stored[CallOutcome.ANSWERED] >= 3 and stored[CallOutcome.ABANDONED] >= 1
    per_pbx = prometheus.query('sum by (pbx) (ringtest_calls_total{source="live"})')
    assert by("pbx", per_pbx) == {"lab": float(sum(stored.values()))}, "every live call's PBX"


def test_prometheus_counts_within_standard_and_offered_as_the_report_per_department(scraped):
    rows, _, _, prometheus = scraped
    live = rows[rows["source"] == "live"]
    within = prometheus.query(
        'sum by (department) (ringtest_calls_answered_within_standard_total{source="live"})'
    )
    offered = prometheus.query(
        'sum by (department) (ringtest_calls_total{source="live",outcome!="incomplete"})'
    )
    assert by("department", within) == live["within_standard"].astype(float).to_dict()
    assert by("department", offered) == live["offered"].astype(float).to_dict()


def test_prometheus_ratio_within_standard_is_the_reports(scraped):
    rows, _, _, prometheus = scraped
    ratio = prometheus.query(
        'sum by (department) (ringtest_calls_answered_within_standard_total{source="live"})'
        ' / sum by (department) (ringtest_calls_total{source="live",outcome!="incomplete"}) >= 0'
    )
    live = rows[(rows["source"] == "live") & (rows["offered"] > 0)]
    assert by("department", ratio) == (live["within_standard"] / live["offered"]).to_dict()
    ours = {"Council Tax": 0.5, "Housing": 0.0, "Benefits": 1.0, "Licensing": 0.0}
    assert {department: by("department", ratio)[department] for department in ours} == ours


def test_the_recording_rule_gives_the_same_ratio(scraped):
    rows, _, _, prometheus = scraped
    recorded = by(
        "department", prometheus.query("department:ringtest_calls_answered_within_standard:ratio1h")
    )
    live = rows[(rows["source"] == "live") & (rows["offered"] > 0)]
    assert set(recorded) >= set(live.index)
    for department, row in live.iterrows():
        assert recorded[department] == pytest.approx(row.within_standard / row.offered, abs=1e-9)


def test_the_ring_time_histogram_puts_within_standard_answers_under_the_standard(scraped):
    rows, _, _, prometheus = scraped
    standard_seconds = 7 * SECONDS_PER_RING
    under = prometheus.scalar(
        'sum(ringtest_call_ring_seconds_bucket{source="live",outcome="answered",'
        f'le="{standard_seconds:.1f}"}})'
    )
    live = rows[rows["source"] == "live"]
    assert under == live["within_standard"].sum() >= 2


def test_prometheus_reads_the_callbacks_owed_from_the_store(scraped):
    _, owed, _, prometheus = scraped
    counted = prometheus.query("sum by (department) (ringtest_callbacks_owed)")
    assert by("department", counted) == {department: float(n) for department, n in owed.items()}
    assert owed["Council Tax"] >= 1 and owed["Licensing"] >= 1


def test_the_listener_is_connected_and_its_clock_offset_is_small(scraped):
    *_, prometheus = scraped
    assert prometheus.scalar("ringtest_listener_connected") == 1
    assert abs(prometheus.scalar("ringtest_listener_clock_offset_seconds")) < 1.0
