"""The synthetic AMI streams: N distinct calls of the recorded shapes, measured as recorded."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline
from ami_listener.tracker import CallTracker
from bench.streams import (
    ANSWERED_SHAPES,
    BANNER,
    SHAPE_WEIGHTS,
    lab_standards,
    load_shapes,
    plan_calls,
    stream_bytes,
)
from ringtest.lab.settings import lab_lines


@pytest.fixture(scope="module")
def shapes():
    return load_shapes()


def replay(stream: bytes, chunk_bytes: int = 65536):
    standards = lab_standards()
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))
    now = datetime.now(UTC)
    records = []
    for start in range(0, len(stream), chunk_bytes):
        records += pipeline.feed_bytes(stream[start : start + chunk_bytes], now).calls
    return pipeline, records, pipeline.link_lost("end of stream").calls


def test_every_recorded_shape_is_one_call_with_its_recorded_outcome(shapes):
    by_name = {shape.name: shape.truth for shape in shapes}
    assert set(by_name) == set(SHAPE_WEIGHTS)
    assert by_name["busy_line"].outcome == "busy"
    assert by_name["voicemail_after_12s"].rings == 5
    assert {name for name, truth in by_name.items() if truth.answered_by == "person"} == set(
        ANSWERED_SHAPES
    )
    assert by_name["queue_answers_after_1500ms"].ring_seconds == pytest.approx(1.5, abs=0.05)


def test_replaying_a_synthetic_stream_yields_exactly_its_calls_as_recorded(shapes):
    calls = list(plan_calls(shapes, 60, start_spacing_seconds=0.3))
    pipeline, records, left_open = replay(stream_bytes(calls))
    assert left_open == []
    assert pipeline.tracker.anomalies == Counter()
    assert sorted(r.call_id for r in records) == sorted(c.call_id for c in calls)
    planned = {call.call_id: call for call in calls}
    for record in records:
        call = planned[record.call_id]
        truth = call.shape.truth
        assert record.caller == call.caller
        assert (record.line, record.outcome, record.answered_by, record.rings) == (
            truth.line,
            truth.outcome,
            truth.answered_by,
            truth.rings,
        ), call.shape.name
        assert record.ring_seconds == pytest.approx(truth.ring_seconds, abs=2e-6)
        assert record.ivr_seconds == pytest.approx(truth.ivr_seconds, abs=2e-6)
        assert record.started_at == datetime.fromtimestamp(call.started_at, tz=UTC)


def test_calls_overlap_a_few_at_a_time_and_about_half_the_events_are_varset(shapes):
    stream = stream_bytes(list(plan_calls(shapes, 200)))
    frames = stream.removeprefix(BANNER).split(b"\r\n\r\n")[:-1]
    assert all(frame.startswith(b"Event: ") for frame in frames)
    assert 0.4 < sum(f.startswith(b"Event: VarSet\r\n") for f in frames) / len(frames) < 0.55
    linkedids = [
        line
        for frame in frames[:400]
        for line in frame.split(b"\r\n")
        if line.startswith(b"Linkedid: ")
    ]
    assert 3 <= len(set(linkedids)) <= 20


def test_frames_keep_crlf_and_no_placeholder_survives(shapes):
    stream = stream_bytes(list(plan_calls(shapes, 30)))
    assert b"%(" not in stream
    assert stream.count(b"\n") == stream.count(b"\r\n")
