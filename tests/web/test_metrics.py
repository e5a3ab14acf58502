"""/metrics: the record stream's changes as Prometheus counters, a histogram on ring
boundaries, and gauges read at scrape time, served by the ASGI app in OpenMetrics.

A real registry, a real SQLite store and a real `ListenerStats`; the changes are
published on a real `RecordStream`, and every figure is read back from the
app's own exposition, parsed by prometheus_client's OpenMetrics parser.
"""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from prometheus_client import generate_latest
from prometheus_client.openmetrics import exposition as openmetrics_exposition
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from ami_listener.lines import MonitoredLine
from ami_listener.message import AmiMessage
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline
from ami_listener.stats import ListenerStats
from ami_listener.tracker import CallTracker
from ringtest.core.records import (
    AnsweredBy,
    CallbackStatus,
    CallOutcome,
    CoverageGap,
    GapReason,
    RingTestOutcome,
)
from ringtest.core.standards import RING_CADENCE_SECONDS, RingRule, Standards
from ringtest.core.stream import (
    CallAnswered,
    CallEnded,
    CallRinging,
    GapObserved,
    ObligationChanged,
    RecordStream,
    RingTestFinished,
)
from ringtest.lab.settings import lab_lines
from ringtest.store import Store
from ringtest.web.metrics import build_metrics, ring_time_buckets
from ringtest.web.metrics_calls import RINGING_CALLS_KEPT
from tests.store.builders import call_record, obligation, ring_test_result

MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SATURDAY_10AM = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
CALLER = "+441632960001"
PBX = "lab"
"""The PBX of every live call here, and of the configured lines."""
OPENMETRICS = b"application/openmetrics-text; version=1.0.0"
PROMETHEUS_ACCEPT = (
    b"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    b"q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)
"""What Prometheus 2.42 sends."""


class Clock:
    """A settable clock for the gauges."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as opened:
        yield opened


@pytest.fixture
def clock():
    return Clock(MONDAY_10AM)


@pytest.fixture
def metrics(store, clock):
    lines = [MonitoredLine("2001", "Housing"), MonitoredLine("benefits", "Benefits", is_queue=True)]
    return build_metrics(Standards(), store, {PBX: lines}, target_percent=80.0, clock=clock)


@pytest.fixture
def stream(metrics):
    stream = RecordStream()
    stream.subscribe("metrics", metrics.subscriber.handle)
    return stream


def get(
    app, accept: bytes = OPENMETRICS, method: str = "GET", encoding: bytes = b""
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request to the ASGI `app`: status, headers and body."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/", "query_string": b""}
    scope["headers"] = [(b"Accept", accept), (b"accept-encoding", encoding)]
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


def scrape(metrics) -> dict[tuple[str, frozenset], float]:
    """Every sample of one OpenMetrics scrape, by name and labels."""
    status, _, body = get(metrics.app)
    assert status == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def sample(samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def live_call(call_id: str, outcome=CallOutcome.ANSWERED, **fields):
    answered = outcome is CallOutcome.ANSWERED
    defaults = dict(
        call_id=call_id,
        pbx=PBX,
        line="2001",
        department="Housing",
        caller=CALLER,
        is_test_call=False,
        outcome=outcome,
        answered_by=AnsweredBy.PERSON if answered else AnsweredBy.NONE,
        within_standard=answered,
    )
    return call_record(**(defaults | fields))


def test_ring_time_buckets_fall_on_the_gb_cadence_to_the_standard_and_beyond():
    assert ring_time_buckets(RingRule()) == (3, 6, 9, 12, 15, 18, 21, 30, 60)


@pytest.mark.parametrize("country", sorted(RING_CADENCE_SECONDS))
@pytest.mark.parametrize("standard", [1, 5, 7, 12, 25])
def test_each_bucket_bound_up_to_the_standard_is_where_ring_rule_counts_one_more_ring(
    country, standard
):
    rule = RingRule(RING_CADENCE_SECONDS[country], standard)
    bounds = ring_time_buckets(rule)
    assert [rule.rings(bound) for bound in bounds[:standard]] == list(range(1, standard + 1))
    assert [rule.rings(bound + 0.000001) for bound in bounds[:standard]] == list(
        range(2, standard + 2)
    )
    assert bounds[standard:] and all(bound > bounds[standard - 1] for bound in bounds[standard:])


def test_odd_cadences_give_exact_ring_bounds():
    assert ring_time_buckets(RingRule(1.1, 3)) == (1.1, 2.2, 3.3, 11.0, 22.0)


def test_calls_are_counted_by_outcome_and_within_standard(metrics, stream):
    stream.publish(
        [
            CallEnded(live_call("1", ring_seconds=4.0, rings=2)),
            CallEnded(live_call("2", ring_seconds=25.0, rings=9, within_standard=False)),
            CallEnded(live_call("3", CallOutcome.ABANDONED, ring_seconds=40.0, rings=14)),
            CallEnded(live_call("4", CallOutcome.BUSY, ring_seconds=None, rings=None)),
            CallEnded(live_call("5", CallOutcome.INCOMPLETE, ring_seconds=2.0, rings=1)),
            CallEnded(live_call("6", line="2009", ring_seconds=5.0, rings=2)),
        ]
    )
    samples = scrape(metrics)
    labels = dict(pbx=PBX, source="live", department="Housing", line="2001")
    assert sample(samples, "ringtest_calls_total", **labels, outcome="answered") == 2
    assert sample(samples, "ringtest_calls_total", **labels, outcome="abandoned") == 1
    assert sample(samples, "ringtest_calls_total", **labels, outcome="busy") == 1
    assert sample(samples, "ringtest_calls_total", **labels, outcome="voicemail") == 0
    assert sample(samples, "ringtest_calls_answered_within_standard_total", **labels) == 1
    department = dict(pbx=PBX, source="live", department="Housing")
    answered = dict(department, outcome="answered")
    bucket = "ringtest_call_ring_seconds_bucket"
    assert sample(samples, bucket, **answered, le="3.0") == 0
    assert sample(samples, bucket, **answered, le="6.0") == 2, "both lines of the department"
    assert sample(samples, bucket, **answered, le="21.0") == 2
    assert sample(samples, bucket, **answered, le="30.0") == 3
    assert sample(samples, "ringtest_call_ring_seconds_count", **answered) == 3
    assert sample(samples, "ringtest_call_ring_seconds_sum", **answered) == 34.0
    abandoned = dict(department, outcome="abandoned")
    assert sample(samples, bucket, **abandoned, le="30.0") == 0
    assert sample(samples, bucket, **abandoned, le="60.0") == 1
    histograms = {dict(labels)["outcome"] for name, labels in samples if name == bucket}
    assert histograms == {"answered", "abandoned"}, "no ring time of busy or incomplete calls"
    assert sample(samples, "ringtest_calls_total", **labels, outcome="incomplete") == 1


def test_configured_lines_start_at_zero_so_their_first_call_is_an_increase(metrics):
    samples = scrape(metrics)
    labels = dict(pbx=PBX, source="live", department="Benefits", line="benefits")
    assert sample(samples, "ringtest_calls_total", **labels, outcome="answered") == 0
    assert sample(samples, "ringtest_calls_total", **labels, outcome="incomplete") == 0
    assert sample(samples, "ringtest_calls_answered_within_standard_total", **labels) == 0
    benefits = dict(department="Benefits", outcome="failed")
    assert sample(samples, "ringtest_ring_tests_total", **benefits) == 0


def test_the_same_extension_on_two_pbxs_is_counted_per_pbx_and_sums_to_both(store, clock):
    lines = [MonitoredLine("2001", "Housing")]
    metrics = build_metrics(Standards(), store, {"north": lines, "south": lines}, clock=clock)
    stream = RecordStream()
    stream.subscribe("metrics", metrics.subscriber.handle)
    stream.publish(
        [
            CallEnded(live_call("1", pbx="north")),
            CallEnded(live_call("2", pbx="south")),
            CallEnded(live_call("3", CallOutcome.ABANDONED, pbx="south", within_standard=False)),
        ]
    )
    samples = scrape(metrics)
    line = dict(source="live", department="Housing", line="2001")
    answered = {pbx: sample(samples, "ringtest_calls_total", pbx=pbx, **line, outcome="answered")
                for pbx in ("north", "south")}  # fmt: skip
    assert answered == {"north": 1, "south": 1}
    assert sample(samples, "ringtest_calls_total", pbx="north", **line, outcome="abandoned") == 0
    assert sample(samples, "ringtest_calls_total", pbx="south", **line, outcome="abandoned") == 1
    within = "ringtest_calls_answered_within_standard_total"
    assert (
        sample(samples, within, pbx="north", **line) + sample(samples, within, pbx="south", **line)
        == 2
    )


def test_ring_tests_count_by_their_outcome_and_as_test_calls_once_placed(metrics, stream):
    stream.publish(
        [
            CallEnded(live_call("9", is_test_call=True, ring_seconds=4.0, rings=2)),
            RingTestFinished(ring_test_result(test_id="a", department="Housing")),
            RingTestFinished(
                ring_test_result(
                    test_id="b",
                    department="Housing",
                    outcome=RingTestOutcome.NOT_PLACED,
                    answered_by=AnsweredBy.NONE,
                    ring_seconds=None,
                    within_standard=False,
                )
            ),
        ]
    )
    samples = scrape(metrics)
    line = ring_test_result().target
    tests = dict(department="Housing")
    assert sample(samples, "ringtest_ring_tests_total", **tests, outcome="answered") == 1
    assert sample(samples, "ringtest_ring_tests_total", **tests, outcome="not_placed") == 1
    assert sample(samples, "ringtest_ring_tests_total", **tests, outcome="busy") == 0
    test_calls = dict(pbx="", source="test", department="Housing", line=line)
    assert sample(samples, "ringtest_calls_total", **test_calls, outcome="answered") == 1
    assert sample(samples, "ringtest_calls_answered_within_standard_total", **test_calls) == 1
    live = dict(pbx=PBX, source="live", department="Housing", line="2001", outcome="answered")
    assert sample(samples, "ringtest_calls_total", **live) == 0, "the ring test's own call"


def test_calls_ringing_now_and_the_longest_wait_per_department(metrics, stream, clock):
    def ringing(call_id, seconds_ago, is_test_call=False):
        return CallRinging(
            call_id, "lab", "2001", "Housing", CALLER, is_test_call,
            MONDAY_10AM - timedelta(seconds=seconds_ago),
        )  # fmt: skip

    stream.publish([ringing("1", 12.5), ringing("2", 4.0), ringing("3", 2.0, is_test_call=True)])
    samples = scrape(metrics)
    live = dict(pbx=PBX, source="live", department="Housing")
    tests = dict(live, source="test")
    assert sample(samples, "ringtest_calls_ringing", **live) == 2
    assert sample(samples, "ringtest_calls_ringing", **tests) == 1
    longest = "ringtest_calls_ringing_longest_seconds"
    assert sample(samples, longest, **live) == 12.5

    answered = CallAnswered("1", "lab", "2001", "Housing", AnsweredBy.PERSON, MONDAY_10AM, 12.5, 5)
    stream.publish([answered, CallEnded(live_call("2", CallOutcome.ABANDONED, pbx="lab"))])
    clock.now += timedelta(seconds=1)
    samples = scrape(metrics)
    assert (
        "ringtest_calls_ringing",
        frozenset(live.items()),
    ) not in samples
    assert sample(samples, longest, **tests) == 3.0


def test_calls_ringing_now_are_bounded_and_the_oldest_is_forgotten_first(metrics, stream):
    began = [MONDAY_10AM - timedelta(seconds=RINGING_CALLS_KEPT - n) for n in range(2)]
    calls = [
        CallRinging(str(n), "lab", "2001", "Housing", CALLER, False, began[min(n, 1)])
        for n in range(RINGING_CALLS_KEPT + 1)
    ]
    stream.publish(calls)
    samples = scrape(metrics)
    housing = dict(pbx=PBX, source="live", department="Housing")
    assert sample(samples, "ringtest_calls_ringing", **housing) == RINGING_CALLS_KEPT
    longest = sample(samples, "ringtest_calls_ringing_longest_seconds", **housing)
    assert longest == RINGING_CALLS_KEPT - 1, "the first call, the oldest, was forgotten"


def test_callbacks_owed_and_overdue_are_read_from_the_store(metrics, store, clock):
    def owed(call_id, deadline_at, status=CallbackStatus.OPEN):
        return obligation(
            call_id=call_id, line="2001", department="Housing", deadline_at=deadline_at,
            status=status, closed_at=None, closing_call_id=None, connected=None,
            working_seconds=None,
        )  # fmt: skip

    store.save_obligation(owed("1", MONDAY_10AM - timedelta(hours=1)))
    store.save_obligation(owed("2", MONDAY_10AM + timedelta(hours=1)))
    store.save_obligation(owed("3", MONDAY_10AM + timedelta(hours=1), CallbackStatus.CALLED_BACK))
    samples = scrape(metrics)
    line = dict(pbx="town-hall", department="Housing", line="2001")
    assert sample(samples, "ringtest_callbacks_owed", **line) == 2
    assert sample(samples, "ringtest_callbacks_overdue", **line) == 1

    clock.now += timedelta(hours=2)
    samples = scrape(metrics)
    assert sample(samples, "ringtest_callbacks_overdue", **line) == 2


def test_callbacks_opened_and_closed_are_counted_from_the_stream(metrics, stream):
    opened = obligation(line="2001", department="Housing", status=CallbackStatus.OPEN)
    stream.publish(
        [
            ObligationChanged(opened),
            ObligationChanged(obligation(line="2001", department="Housing")),
            ObligationChanged(
                obligation(line="2001", department="Housing", status=CallbackStatus.OVERDUE)
            ),
        ]
    )
    samples = scrape(metrics)
    housing = dict(pbx="town-hall", department="Housing", line="2001")
    assert sample(samples, "ringtest_callbacks_opened_total", **housing) == 1
    assert sample(samples, "ringtest_callbacks_closed_total", **housing, outcome="called_back") == 1


def test_opening_hours_and_the_target_are_exported_for_the_alert_rules(metrics, clock):
    assert sample(scrape(metrics), "ringtest_opening_hours") == 1
    assert sample(scrape(metrics), "ringtest_answered_within_standard_target_ratio") == 0.8
    clock.now = SATURDAY_10AM
    assert sample(scrape(metrics), "ringtest_opening_hours") == 0


def listener_stats(pbx: str = PBX) -> ListenerStats:
    standards = Standards()
    pipeline = CallPipeline(CallTracker(pbx, lab_lines(), standards), CallbackLedger(standards))
    return ListenerStats(pipeline)


def link(handler_errors: int, oversize_frames: int, garbage_frames: int):
    """What `ListenerStats` reads of an AMI connection (a stand-in: no socket needed)."""
    return SimpleNamespace(
        handler_errors=handler_errors,
        oversize_frames=oversize_frames,
        garbage_frames=garbage_frames,
    )


def test_listener_health_is_read_at_scrape_time_and_its_counts_never_go_back(metrics, clock):
    stats = listener_stats()
    metrics.watch_listener(stats)
    clock.now += timedelta(seconds=30)
    samples = scrape(metrics)
    assert sample(samples, "ringtest_listener_connected", pbx=PBX) == 0
    assert sample(samples, "ringtest_listener_last_event_age_seconds", pbx=PBX) == 30
    assert ("ringtest_listener_clock_offset_seconds", frozenset({("pbx", PBX)})) not in samples

    stats.link_opened(link(handler_errors=2, oversize_frames=1, garbage_frames=0))
    event = AmiMessage.from_frame(b"Event: Hangup\r\nTimestamp: 1796032797.500000\r\n")
    stats.event_received(event, datetime.fromtimestamp(1796032800, UTC))
    pipeline_anomalies = stats.pipeline.tracker.anomalies
    pipeline_anomalies["Hangup for a call not being tracked"] += 3
    clock.now = datetime.fromtimestamp(1796032810, UTC)
    first = scrape(metrics)
    assert sample(first, "ringtest_listener_connected", pbx=PBX) == 1
    assert sample(first, "ringtest_listener_last_event_age_seconds", pbx=PBX) == 10
    assert sample(first, "ringtest_listener_clock_offset_seconds", pbx=PBX) == -2.5
    assert sample(first, "ringtest_listener_anomalies_total", pbx=PBX) == 3
    assert sample(first, "ringtest_listener_handler_errors_total", pbx=PBX) == 2

    stats.link_closed()
    stats.link_opened(link(handler_errors=0, oversize_frames=0, garbage_frames=0))
    again = scrape(metrics)
    for name in ("handler_errors", "oversize_frames", "anomalies", "connects"):
        total = f"ringtest_listener_{name}_total"
        assert sample(again, total, pbx=PBX) >= sample(first, total, pbx=PBX), name
    assert sample(again, "ringtest_listener_connects_total", pbx=PBX) == 2


def test_each_pbx_listener_has_its_own_health_series(metrics, clock):
    north, south = listener_stats("north"), listener_stats("south")
    metrics.watch_listener(north)
    metrics.watch_listener(south)
    south.link_opened(link(handler_errors=0, oversize_frames=0, garbage_frames=0))
    samples = scrape(metrics)
    assert sample(samples, "ringtest_listener_connected", pbx="north") == 0
    assert sample(samples, "ringtest_listener_connected", pbx="south") == 1
    assert sample(samples, "ringtest_listener_connects_total", pbx="south") == 1


def test_gaps_are_counted_with_their_blind_seconds(metrics, stream):
    gap = CoverageGap(PBX, MONDAY_10AM, MONDAY_10AM + timedelta(seconds=90), GapReason.LINK_LOST)
    stream.publish([GapObserved(gap)])
    samples = scrape(metrics)
    assert sample(samples, "ringtest_listener_gaps_total", pbx=PBX) == 1
    assert sample(samples, "ringtest_listener_blind_seconds_total", pbx=PBX) == 90


def test_no_caller_number_or_call_id_appears_in_the_exposition(metrics, stream, store):
    stream.publish(
        [
            CallRinging("1764496800.17", "lab", "2001", "Housing", CALLER, False, MONDAY_10AM),
            CallEnded(live_call("1764496800.42", CallOutcome.ABANDONED, ring_seconds=8.0)),
            ObligationChanged(obligation(call_id="1764496800.42", status=CallbackStatus.OPEN)),
        ]
    )
    store.save_obligation(obligation(call_id="1764496800.42", status=CallbackStatus.OPEN))
    _, _, body = get(metrics.app)
    text = body.decode()
    assert "ringtest_callbacks_owed" in text and "ringtest_calls_ringing" in text
    for secret in (CALLER, "1764496800"):
        assert secret not in text


def test_the_app_speaks_openmetrics_when_asked_and_the_text_format_otherwise(metrics):
    status, headers, body = get(metrics.app, accept=PROMETHEUS_ACCEPT)
    assert status == 200
    assert headers[b"content-type"] == b"application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert headers[b"content-length"] == str(len(body)).encode()
    assert body.endswith(b"# EOF\n")
    assert b"# UNIT ringtest_call_ring_seconds seconds" in body

    status, headers, body = get(metrics.app, accept=b"text/plain")
    assert headers[b"content-type"] == b"text/plain; version=0.0.4; charset=utf-8"
    assert b"# TYPE ringtest_calls_total counter" in body
    assert b"# EOF" not in body


def test_the_bytes_are_those_of_prometheus_client(metrics, stream, store):
    odd = 'Housing "North" \\ Lochee\nannex'
    stream.publish(
        [
            CallEnded(live_call("1", ring_seconds=4.0, rings=2)),
            CallEnded(live_call("2", CallOutcome.ABANDONED, department=odd, ring_seconds=1e-7)),
            CallEnded(live_call("3", line="2009", ring_seconds=123456789.5, rings=10**8)),
            CallRinging("4", "lab", "2001", odd, CALLER, False, MONDAY_10AM),
        ]
    )
    store.save_obligation(obligation(department=odd, status=CallbackStatus.OPEN))
    _, _, body = get(metrics.app)
    assert odd not in body.decode(), "the odd department's name is escaped"
    assert body == openmetrics_exposition.generate_latest(metrics.registry)
    _, _, body = get(metrics.app, accept=b"text/plain")
    assert body == generate_latest(metrics.registry)


def test_a_scrape_is_gzipped_when_the_client_accepts_it(metrics):
    _, headers, body = get(metrics.app, encoding=b"gzip, deflate")
    assert headers[b"content-encoding"] == b"gzip"
    assert gzip.decompress(body).endswith(b"# EOF\n")


def test_head_has_no_body_and_other_methods_are_refused(metrics):
    status, headers, body = get(metrics.app, method="HEAD")
    assert (status, body) == (200, b"")
    status, headers, _ = get(metrics.app, method="POST")
    assert (status, headers[b"allow"]) == (405, b"GET, HEAD")


def test_the_app_answers_lifespan_so_it_runs_alone_under_a_server(metrics):
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(metrics.app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_created_series_are_left_out(metrics, stream):
    stream.publish([CallEnded(live_call("1", ring_seconds=4.0, rings=2))])
    assert not [name for name, _ in scrape(metrics) if name.endswith("_created")]
