"""Calls recorded byte-exact from the lab Asterisk, replayed through the tracker.

Each fixture is the raw AMI stream (CRLF intact) captured while the lab's
`ringtester` account (+441382000199) placed one call with a chosen staff answer
delay; other lab traffic in the same streams is left in, as on a real PBX.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline, replay_file
from ami_listener.recording import read_chunks
from ami_listener.tracker import CallTracker
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.standards import Standards
from ringtest.lab.accounts import CONSULT_AFTER_MS, TRANSFER_AFTER_MS
from ringtest.lab.settings import lab_lines

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"
RINGTESTER = "+441382000199"
LINES = lab_lines()
"""`examples/lab.toml`'s lines and every other lab department's (Reception and on)."""
GB = Standards()


class ListSink:
    def __init__(self) -> None:
        self.batch = Batch()

    def write(self, batch: Batch) -> None:
        self.batch.extend(batch)


def new_pipeline() -> CallPipeline:
    return CallPipeline(CallTracker("lab", LINES, GB), CallbackLedger(GB))


def ringtester_call(name: str):
    sink = ListSink()
    replay_file(FIXTURES / f"{name}.ami", new_pipeline(), sink)
    [call] = [call for call in sink.batch.calls if call.caller == RINGTESTER]
    return call, sink.batch


def test_person_answering_after_1500_ms_rings_1_5_seconds_one_gb_ring():
    call, _ = ringtester_call("person_answers_after_1500ms")
    assert (call.outcome, call.answered_by, call.line) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "2001",
    )
    assert call.ring_seconds == pytest.approx(1.5, abs=0.05)
    assert call.rings == 1
    assert call.within_standard


def test_ring_group_answered_by_either_member_is_a_person_answer():
    call, _ = ringtester_call("ring_group_answers_after_1200ms")
    assert (call.outcome, call.answered_by, call.department) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "Housing",
    )
    assert call.ring_seconds == pytest.approx(1.2, abs=0.05)


def test_busy_line_is_busy_and_never_rang():
    call, batch = ringtester_call("busy_line")
    assert (call.outcome, call.answered_by, call.ring_seconds) == (
        CallOutcome.BUSY,
        AnsweredBy.NONE,
        None,
    )
    assert not call.within_standard


def test_caller_hanging_up_after_two_seconds_of_ringing_abandoned():
    call, batch = ringtester_call("caller_abandons_after_2_rings")
    assert call.outcome is CallOutcome.ABANDONED
    assert call.ring_seconds == pytest.approx(2.0, abs=0.05)
    assert call.answered_at is None


def test_queue_caller_abandoning_is_abandoned_on_the_queue_line():
    call, _ = ringtester_call("caller_abandons_queue_after_2s")
    assert (call.outcome, call.line, call.department) == (
        CallOutcome.ABANDONED,
        "benefits",
        "Benefits",
    )
    assert call.ring_seconds == pytest.approx(2.0, abs=0.05)


def test_ivr_answering_is_not_a_person_answering():
    call, _ = ringtester_call("caller_abandons_in_ivr")
    assert (call.outcome, call.answered_by) == (CallOutcome.ABANDONED, AnsweredBy.IVR)
    assert call.ivr_seconds == pytest.approx(1.0, abs=0.05)
    assert not call.within_standard


def test_voicemail_just_after_twelve_seconds_is_a_missed_call_in_the_fifth_gb_ring():
    call, batch = ringtester_call("voicemail_after_12s")
    assert (call.outcome, call.answered_by) == (CallOutcome.VOICEMAIL, AnsweredBy.VOICEMAIL)
    assert call.ring_seconds == pytest.approx(12.0, abs=0.05)
    assert call.rings == 5
    assert not call.within_standard
    [obligation] = [ob for ob in batch.obligations if ob.call_id == call.call_id]
    assert obligation.caller == RINGTESTER


def test_events_are_timed_by_the_pbx_not_by_the_replay():
    call, _ = ringtester_call("person_answers_after_1500ms")
    assert call.started_at.year == 2026
    assert call.started_at < datetime.now(UTC)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=1, max_value=4096), min_size=1, max_size=400))
def test_stream_cut_into_any_chunks_gives_the_same_calls(chunk_sizes):
    stream = (FIXTURES / "ring_group_answers_after_1200ms.ami").read_bytes()
    whole = new_pipeline().feed_bytes(stream, datetime.now(UTC)).calls
    pipeline, calls, start = new_pipeline(), [], 0
    sizes = iter(chunk_sizes * (len(stream) // sum(chunk_sizes) + 1))
    while start < len(stream):
        end = start + next(sizes)
        calls += pipeline.feed_bytes(stream[start:end], datetime.now(UTC)).calls
        start = end
    assert calls == whole


def test_stream_fed_one_byte_at_a_time_gives_the_same_calls():
    stream = (FIXTURES / "busy_line.ami").read_bytes()
    whole = new_pipeline().feed_bytes(stream, datetime.now(UTC)).calls
    pipeline = new_pipeline()
    calls = [
        c
        for i in range(len(stream))
        for c in pipeline.feed_bytes(stream[i : i + 1], datetime.now(UTC)).calls
    ]
    assert calls == whole


GARBAGE = st.one_of(
    st.binary(max_size=300).map(lambda junk: junk.replace(b"\r\n\r\n", b"") + b"\r\n\r\n"),
    st.just(b"Event: Newstate\r\nno colon here\r\nLinkedid: 1.2\r\n\r\n"),
    st.just(b"Event: Hangup\r\nLinkedid: nonexistent\r\n\r\n"),
    st.just(b"Event: UnknownEvent\r\nX: " + b"\xff\xfe" * 50 + b"\r\n\r\n"),
    st.just(b"Event: UserEvent\r\nData: " + b"x" * 1_000_000 + b"\r\n\r\n"),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(GARBAGE, max_size=5), st.data())
def test_malformed_frames_between_events_lose_no_call(garbage_frames, data):
    stream = (FIXTURES / "person_answers_after_1500ms.ami").read_bytes()
    frame_ends = [i + 4 for i in range(len(stream)) if stream.startswith(b"\r\n\r\n", i)]
    polluted = stream
    for junk in garbage_frames:
        cut = data.draw(st.sampled_from(frame_ends))
        polluted = polluted[:cut] + junk + polluted[cut:]
        frame_ends = [end + len(junk) if end > cut else end for end in frame_ends]
    clean = new_pipeline().feed_bytes(stream, datetime.now(UTC)).calls
    assert new_pipeline().feed_bytes(polluted, datetime.now(UTC)).calls == clean


def test_queue_member_answering_is_a_person_on_the_queue_line_timed_from_joining():
    call, _ = ringtester_call("queue_answers_after_1500ms")
    assert (call.outcome, call.answered_by, call.line) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "benefits",
    )
    assert call.ring_seconds == pytest.approx(1.5, abs=0.05)


def test_ivr_time_is_kept_apart_from_the_ringing_before_a_person_answers():
    call, _ = ringtester_call("ivr_then_person_after_1000ms")
    assert (call.outcome, call.answered_by, call.line) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "2000",
    )
    assert call.ring_seconds == pytest.approx(1.0, abs=0.05)
    assert call.ivr_seconds == pytest.approx(5.9, abs=0.2)
    assert call.within_standard


def test_call_cut_off_by_a_pbx_restart_is_incomplete_not_abandoned():
    sink = ListSink()
    replay_file(FIXTURES / "pbx_restarts_while_ringing.ami", new_pipeline(), sink)
    [call] = [c for c in sink.batch.calls if c.caller == "+441382000171"]
    assert call.outcome is CallOutcome.INCOMPLETE
    assert call.gap_note.startswith("cut off by the PBX shutting down at 2026-11-23T")
    assert not sink.batch.obligations


def all_frames(name: str) -> list[dict[str, str]]:
    """The fixture's frames as header dicts (first value wins)."""
    frames = (FIXTURES / f"{name}.ami").read_bytes().decode().split("\r\n\r\n")
    return [
        dict(reversed([line.split(": ", 1) for line in frame.split("\r\n") if ": " in line]))
        for frame in frames
    ]


def events_of(name: str, event: str, call_id: str) -> list[dict[str, str]]:
    """The fixture's `event` frames of call `call_id`."""
    return [f for f in all_frames(name) if f.get("Event") == event and f.get("Linkedid") == call_id]


def test_blind_transfer_keeps_the_first_answer_and_ends_with_the_last_channel():
    call, batch = ringtester_call("blind_transfer_answered_after_1100ms")
    assert (call.outcome, call.answered_by, call.line, call.department) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "2006",
        "Reception",
    )
    assert call.ring_seconds == pytest.approx(1.1, abs=0.05)
    assert call.rings == 1
    housing_answer = [
        float(e["Timestamp"])
        for e in events_of("blind_transfer_answered_after_1100ms", "Newstate", call.call_id)
        if e["Channel"].startswith("PJSIP/staff2") and e["ChannelStateDesc"] == "Up"
    ]
    assert len(housing_answer) == 1, "the transfer target (Housing) answered once"
    assert call.answered_at.timestamp() < housing_answer[0] - TRANSFER_AFTER_MS / 1000
    assert call.ended_at.timestamp() > housing_answer[0]
    assert [c.call_id for c in batch.calls].count(call.call_id) == 1


def test_attended_transfer_keeps_the_first_answer_and_the_consultation_is_no_citizen_call():
    name = "attended_transfer_answered_after_1300ms"
    call, batch = ringtester_call(name)
    assert (call.outcome, call.answered_by, call.line, call.department) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "2010",
        "Environmental Health",
    )
    assert call.ring_seconds == pytest.approx(1.3, abs=0.05)
    assert call.rings == 1
    [consultation] = batch.dialled
    assert (consultation.caller, consultation.dialled) == ("+441382434010", "staff1")
    assert consultation.started_at - call.answered_at > timedelta(milliseconds=CONSULT_AFTER_MS)
    [transfer] = [f for f in all_frames(name) if f.get("Event") == "AttendedTransfer"]
    assert transfer["TransferTargetLinkedid"] == consultation.call_id
    assert transfer["TransfereeLinkedid"] == call.call_id
    assert consultation.ended_at.timestamp() < float(transfer["Timestamp"]) + 0.01, (
        "the consultation ends with the transferring phone's own leg"
    )
    target_hangup = [
        f
        for f in all_frames(name)
        if f.get("Event") == "Hangup" and f["Uniqueid"] == transfer["TransferTargetUniqueid"]
    ]
    assert target_hangup[0]["Linkedid"] == call.call_id, "Asterisk moved the target"
    assert call.ended_at.timestamp() >= float(target_hangup[0]["Timestamp"])
    assert [c.call_id for c in batch.calls] == [call.call_id]
    pipeline = new_pipeline()
    for received_at, chunk in read_chunks(FIXTURES / f"{name}.ami"):
        pipeline.feed_bytes(chunk, received_at)
    assert pipeline.tracker.open_calls() == [], "nothing stays open once every channel hung up"


def test_local_channel_halves_and_their_optimisation_are_not_an_answer_or_an_end():
    name = "local_channel_answers_after_1300ms"
    call, batch = ringtester_call(name)
    assert (call.outcome, call.answered_by, call.department) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "Customer Services",
    )
    assert call.ring_seconds == pytest.approx(1.3, abs=0.05)
    [staff_up] = [
        e
        for e in events_of(name, "Newstate", call.call_id)
        if e["Channel"].startswith("PJSIP/staff1") and e["ChannelStateDesc"] == "Up"
    ]
    assert call.answered_at.timestamp() == pytest.approx(float(staff_up["Timestamp"]), abs=1e-6)
    local_gone = max(
        float(e["Timestamp"])
        for e in events_of(name, "Hangup", call.call_id)
        if e["Channel"].startswith("Local/")
    )
    assert call.ended_at.timestamp() > local_gone
    assert [c.call_id for c in batch.calls].count(call.call_id) == 1


def test_congestion_is_a_failed_call_not_busy():
    call, batch = ringtester_call("congestion_fails")
    assert (call.outcome, call.answered_by, call.ring_seconds, call.rings, call.line) == (
        CallOutcome.FAILED,
        AnsweredBy.NONE,
        None,
        None,
        "2008",
    )
    assert not call.within_standard
    [obligation] = [ob for ob in batch.obligations if ob.call_id == call.call_id]
    assert obligation.caller == RINGTESTER, "a failed call is a missed call, owed a callback"


def test_round_robin_queue_member_answering_is_timed_from_joining_the_queue():
    call, _ = ringtester_call("rrmemory_queue_answers_after_1700ms")
    assert (call.outcome, call.answered_by, call.line, call.department) == (
        CallOutcome.ANSWERED,
        AnsweredBy.PERSON,
        "permits",
        "Permits",
    )
    assert call.ring_seconds == pytest.approx(1.7, abs=0.05)
    assert call.rings == 1


def test_a_replay_reports_every_byte_it_feeds_for_progress():
    fed: list[int] = []
    pipeline = new_pipeline()
    replay_file(
        FIXTURES / "person_answers_after_1500ms.ami", pipeline, ListSink(), on_bytes=fed.append
    )
    assert len(fed) > 1
    assert sum(fed) == pipeline.counters.bytes
