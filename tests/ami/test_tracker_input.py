"""Nonsense AMI input: counted by kind, made safe or refused, never stored as it came.

Crafted streams are fed one byte at a time and the finished records and anomaly
counts asserted exactly; hypothesis then injects the same malformations into the
recorded fixtures, which must lose no well-formed call and store no over-long field.
"""

import logging
from collections import Counter
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ami_listener.connection import AmiConnection
from ami_listener.event_fields import (
    MAX_ID_CHARS,
    MAX_NUMBER_CHARS,
    NO_LINKEDID,
    NO_UNIQUEID,
    UNREADABLE_DURATION,
    UNREADABLE_TIMESTAMP,
    unusable,
)
from ami_listener.frames import NOT_A_MESSAGE, OVERSIZE
from ami_listener.lines import LineDirectory, MonitoredLine
from ami_listener.message import AmiMessage, parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline
from ami_listener.stats import ListenerStats
from ami_listener.tracker import HANGUP_OF_UNSEEN_CHANNEL, CallTracker
from ringtest.core.records import AnsweredBy, CallOutcome, CallRecord, DialledCall
from ringtest.core.standards import Standards
from ringtest.lab.settings import lab_lines

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"
GB = Standards()
COUNCIL_TAX = LineDirectory([MonitoredLine("2001", "Council Tax")])
T0 = 1_795_000_000.0
"""2026-11-18 11:06:40 UTC, the crafted calls' first instant (whole seconds from here)."""
RECEIVED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOT_TRACKED = "{} for a call not being tracked"


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def frame(event: str, timestamp: float | str | None, **headers: str) -> bytes:
    """One AMI event frame; `timestamp` as seconds, as raw header text, or None for none."""
    lines = [f"Event: {event}"]
    if timestamp is not None:
        stamp = f"{timestamp:.6f}" if isinstance(timestamp, float) else timestamp
        lines.append(f"Timestamp: {stamp}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def caller_call(
    channel: dict[str, str], caller: str, ring_after: float, end_after: float, start: float = T0
) -> list[bytes]:
    """A caller dialling 2001, ringing after `ring_after` s, hanging up after `end_after` s."""
    return [
        frame("Newchannel", start, Exten="2001", CallerIDNum=caller, **channel),
        frame("DialState", start + ring_after, DialStatus="RINGING", **channel),
        frame("Hangup", start + end_after, Cause="16", **channel),
    ]


def abandoned(call_id: str, caller: str, start: float, ring_at: float, end: float) -> CallRecord:
    """The record of a call to 2001 that rang from `ring_at` until the caller gave up."""
    ring_seconds = end - ring_at
    return CallRecord(
        call_id=call_id,
        pbx="lab",
        line="2001",
        department="Council Tax",
        caller=caller,
        dialled="2001",
        started_at=utc(start),
        ring_started_at=utc(ring_at),
        answered_at=None,
        answered_by=AnsweredBy.NONE,
        ended_at=utc(end),
        ring_seconds=ring_seconds,
        rings=GB.ring_rule.rings(ring_seconds),
        outcome=CallOutcome.ABANDONED,
        within_standard=False,
    )


def new_pipeline(lines: LineDirectory = COUNCIL_TAX) -> CallPipeline:
    return CallPipeline(CallTracker("lab", lines, GB), CallbackLedger(GB))


def bytewise(*frames: bytes) -> tuple[CallPipeline, Batch]:
    """Feed `frames` one byte at a time, then close the stream; every batch, in order."""
    stream = b"".join(frames)
    pipeline, batch = new_pipeline(), Batch()
    for i in range(len(stream)):
        batch.extend(pipeline.feed_bytes(stream[i : i + 1], RECEIVED_AT))
    batch.extend(pipeline.link_lost("end of the test stream"))
    return pipeline, batch


def test_two_calls_with_empty_linkedids_stay_two_calls_keyed_by_their_uniqueids():
    a, b = {"Uniqueid": "1.1", "Linkedid": ""}, {"Uniqueid": "2.1"}
    first, second = (
        caller_call(a, "01382000151", 1, 3),
        caller_call(b, "01382000152", 1, 5, T0 + 0.5),
    )
    pipeline, batch = bytewise(first[0], second[0], first[1], second[1], first[2], second[2])
    assert batch.calls == [
        abandoned("1.1", "+441382000151", T0, T0 + 1, T0 + 3),
        abandoned("2.1", "+441382000152", T0 + 0.5, T0 + 1.5, T0 + 5.5),
    ]
    assert [ob.call_id for ob in batch.obligations] == ["1.1", "2.1"]
    assert pipeline.tracker.anomalies == Counter({NO_LINKEDID: 4})


def test_an_event_with_an_empty_linkedid_counts_in_the_call_its_channel_joined():
    caller = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    newchannel, _, hangup = caller_call(caller, "01382000151", 1, 4)
    ringing = frame("DialState", T0 + 1, DialStatus="RINGING", Uniqueid="1.1", Linkedid="")
    pipeline, batch = bytewise(newchannel, ringing, hangup)
    assert batch.calls == [abandoned("1.1", "+441382000151", T0, T0 + 1, T0 + 4)]
    assert pipeline.tracker.anomalies == Counter({NO_LINKEDID: 1})


def test_a_channel_without_a_uniqueid_is_refused():
    pipeline, batch = bytewise(*caller_call({"Uniqueid": "", "Linkedid": ""}, "01382000151", 1, 3))
    assert not batch
    assert pipeline.tracker.anomalies == Counter(
        {
            NO_UNIQUEID: 1,
            NO_LINKEDID: 1,
            NOT_TRACKED.format("DialState"): 1,
            NOT_TRACKED.format("Hangup"): 1,
        }
    )


def test_a_hangup_of_a_channel_never_seen_starting_is_refused_and_counted():
    caller = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    newchannel, ringing, hangup = caller_call(caller, "01382000151", 1, 6)
    unseen_in_the_call = frame("Hangup", T0 + 2, Cause="16", Uniqueid="1.7", Linkedid="1.1")
    unseen_anywhere = frame("Hangup", T0 + 3, Cause="16", Uniqueid="5.5", Linkedid="5.5")
    pipeline, batch = bytewise(newchannel, ringing, unseen_in_the_call, unseen_anywhere, hangup)
    assert batch.calls == [abandoned("1.1", "+441382000151", T0, T0 + 1, T0 + 6)]
    assert pipeline.tracker.anomalies == Counter(
        {HANGUP_OF_UNSEEN_CHANNEL: 1, NOT_TRACKED.format("Hangup"): 1}
    )


@pytest.mark.parametrize(
    "caller_id",
    ["0" * 100_000, "0" * (MAX_NUMBER_CHARS + 1), "01382\x00000151", "01382\u2028000151"],
    ids=["100,000 characters", "one over the bound", "NUL", "line separator"],
)
def test_a_caller_id_that_is_no_number_is_stored_empty_and_counted(caller_id):
    pipeline, batch = bytewise(
        *caller_call({"Uniqueid": "1.1", "Linkedid": "1.1"}, caller_id, 1, 3)
    )
    assert batch.calls == [abandoned("1.1", "", T0, T0 + 1, T0 + 3)]
    assert batch.obligations == [], "no number, no callback owed"
    assert pipeline.tracker.anomalies == Counter({unusable("CallerIDNum"): 1})


def test_a_caller_id_at_the_bound_is_kept_as_it_came():
    at_the_bound = "0" * MAX_NUMBER_CHARS
    pipeline, batch = bytewise(
        *caller_call({"Uniqueid": "1.1", "Linkedid": "1.1"}, at_the_bound, 1, 3)
    )
    assert batch.calls == [abandoned("1.1", at_the_bound, T0, T0 + 1, T0 + 3)]
    assert pipeline.tracker.anomalies == Counter()


def test_a_caller_id_rewritten_to_no_number_keeps_the_number_it_had():
    caller = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    newchannel, ringing, hangup = caller_call(caller, "01382000151", 1, 3)
    rewrite = frame("NewCallerid", T0 + 0.5, CallerIDNum="7" * 100_000, **caller)
    pipeline, batch = bytewise(newchannel, rewrite, ringing, hangup)
    assert batch.calls == [abandoned("1.1", "+441382000151", T0, T0 + 1, T0 + 3)]
    assert pipeline.tracker.anomalies == Counter({unusable("CallerIDNum"): 1})


def test_an_over_long_extension_is_stored_empty_and_the_call_is_no_monitored_call():
    pipeline, batch = bytewise(
        frame("Newchannel", T0, Uniqueid="1.1", Linkedid="1.1", Exten="2" * 100_000),
        frame("Hangup", T0 + 3, Cause="16", Uniqueid="1.1", Linkedid="1.1"),
    )
    assert batch.dialled == [
        DialledCall("1.1", "lab", "", "", utc(T0), answered_at=None, ended_at=utc(T0 + 3))
    ]
    assert batch.calls == []
    assert pipeline.tracker.anomalies == Counter({unusable("Exten"): 1})


def test_over_long_ids_refuse_the_channel_and_every_event_of_it():
    long_id = "1." + "9" * (MAX_ID_CHARS - 1)
    pipeline, batch = bytewise(
        *caller_call({"Uniqueid": long_id, "Linkedid": long_id}, "01382000151", 1, 3)
    )
    assert not batch
    assert pipeline.tracker.anomalies == Counter(
        {
            unusable("Uniqueid"): 1,
            unusable("Linkedid"): 1,
            NOT_TRACKED.format("DialState"): 1,
            NOT_TRACKED.format("Hangup"): 1,
        }
    )


@pytest.mark.parametrize("timestamp", ["soon", "", "inf", "nan", "1e20", "-1", "1795000000.5.5"])
def test_an_unreadable_timestamp_times_the_event_at_receipt_and_counts(timestamp):
    caller = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    _, ringing, hangup = caller_call(caller, "01382000151", 1, 3)
    newchannel = frame("Newchannel", timestamp, Exten="2001", CallerIDNum="01382000151", **caller)
    pipeline, batch = bytewise(newchannel, ringing, hangup)
    [call] = batch.calls
    assert (call.started_at, call.ring_started_at, call.ended_at) == (
        RECEIVED_AT,
        utc(T0 + 1),
        utc(T0 + 3),
    )
    assert pipeline.tracker.anomalies == Counter({UNREADABLE_TIMESTAMP: 1})


def test_an_event_without_a_timestamp_is_timed_at_receipt_and_is_no_anomaly():
    caller = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    _, ringing, hangup = caller_call(caller, "01382000151", 1, 3)
    newchannel = frame("Newchannel", None, Exten="2001", CallerIDNum="01382000151", **caller)
    pipeline, batch = bytewise(newchannel, ringing, hangup)
    assert [call.started_at for call in batch.calls] == [RECEIVED_AT]
    assert pipeline.tracker.anomalies == Counter()


@pytest.mark.parametrize(
    ("duration", "up_for", "anomalies"),
    [
        ("00:01:05", timedelta(seconds=65), {}),
        ("99999999999:00:00", timedelta(), {UNREADABLE_DURATION: 1}),
        ("-1:00:00", timedelta(), {UNREADABLE_DURATION: 1}),
        ("9" * 5000, timedelta(), {UNREADABLE_DURATION: 1}),
    ],
)
def test_a_resync_duration_that_makes_no_sense_starts_the_call_at_the_resync(
    duration, up_for, anomalies
):
    tracker = CallTracker("lab", COUNCIL_TAX, GB)
    channel = AmiMessage(
        (
            ("Event", "CoreShowChannel"),
            ("Uniqueid", "1.1"),
            ("Linkedid", "1.1"),
            ("Exten", "2001"),
            ("Duration", duration),
        )
    )
    tracker.adopt_in_flight(channel, RECEIVED_AT, note="in progress at the resync")
    [call] = tracker.open_calls()
    assert call.started_at == RECEIVED_AT - up_for
    assert tracker.anomalies == Counter(anomalies)


class Clock:
    """Monotonic seconds, moved by hand."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


GARBAGE_WITH_A_NUMBER = b"call from +441382000199 no colon here\r\n\r\n"
NOT_A_MESSAGE_FRAMES = [
    GARBAGE_WITH_A_NUMBER,
    b"\x00\xff\xfe binary junk\r\n\r\n",
    b"Foo: a header, but no Event or Response\r\n\r\n",
]


def test_garbage_frames_are_counted_and_logged_once_a_minute_without_their_content(caplog):
    pipeline = new_pipeline()
    clock = pipeline.skipped.clock = Clock()
    pipeline.frames.max_frame_bytes = 1024
    oversize = b"Event: UserEvent\r\nData: " + b"x" * 5000 + b"\r\n\r\n"
    response = b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    stream = b"".join(NOT_A_MESSAGE_FRAMES * 100) + oversize + response
    with caplog.at_level(logging.WARNING, logger="ami_listener.frames"):
        for i in range(len(stream)):
            pipeline.feed_bytes(stream[i : i + 1], RECEIVED_AT)
        clock.seconds += 59.0
        pipeline.feed_bytes(GARBAGE_WITH_A_NUMBER, RECEIVED_AT)
        clock.seconds += 1.0
        pipeline.feed_bytes(GARBAGE_WITH_A_NUMBER, RECEIVED_AT)
    assert pipeline.skipped.by_kind == Counter({NOT_A_MESSAGE: 302, OVERSIZE: 1})
    assert [record.getMessage() for record in caplog.records] == [
        "AMI stream: skipped 1 garbage frames (1 not an AMI message); 1 since the stream opened",
        "AMI stream: skipped 302 garbage frames in the last 60 s "
        "(301 not an AMI message, 1 oversize); 303 since the stream opened",
    ]
    assert pipeline.tracker.anomalies == Counter()


def test_a_connection_counts_its_garbage_frames_and_the_listener_keeps_them_across_links():
    pipeline = new_pipeline()
    stats = ListenerStats(pipeline)
    for _ in range(2):
        connection = AmiConnection("127.0.0.1", 0, on_event=lambda message: None)
        stats.link_opened(connection)
        for garbage in NOT_A_MESSAGE_FRAMES:
            connection.dispatch(parse_frame(garbage[:-4]))
        connection.dispatch(parse_frame(b"Response: Success\r\nMessage: late reply"))
        assert connection.garbage_frames == 3
        stats.link_closed()
    assert stats.garbage_frames == stats.as_dict()["garbage_frames"] == 6
    assert ", 6 garbage frames, 0 oversize frames, " in stats.summary()


# Hypothesis: the malformations above, injected between the frames of recorded calls.

RECORDED = [
    "person_answers_after_1500ms",
    "busy_line",
    "ivr_then_person_after_1000ms",
    "blind_transfer_answered_after_1100ms",
    "local_channel_answers_after_1300ms",
    "voicemail_after_12s",
]
"""Raw AMI streams (the attended-transfer one is in `--record` chunks, not raw bytes)."""
LINES = lab_lines()
FUZZ_MAX_FRAME_BYTES = 256 * 1024
"""The frame limit while fuzzing: above a 100,000-character caller ID's frame, and small
enough that an oversize frame trickling in byte by byte stays quick."""
OVERSIZE_FRAME = b"Event: UserEvent\r\nData: " + b"x" * FUZZ_MAX_FRAME_BYTES + b"\r\n\r\n"


def recorded_call_ids(stream: bytes) -> list[str]:
    """The Linkedids of the calls whose start the recording holds."""
    ids = []
    for text in stream.decode().split("\r\n\r\n"):
        headers = dict(line.split(": ", 1) for line in text.split("\r\n") if ": " in line)
        if headers.get("Event") == "Newchannel" and headers["Uniqueid"] == headers["Linkedid"]:
            ids.append(headers["Linkedid"])
    return ids


def malformations(real_ids: list[str]):
    """(kind, bytes) of one malformation: fresh ids are ``fuzz-N``, never a real one's;
    an unseen hangup's channel is ``unseen-N``, which no other malformation starts."""
    fresh = st.integers(min_value=1, max_value=10**6).map(lambda n: f"fuzz-{n}")
    unseen = st.integers(min_value=1, max_value=10**6).map(lambda n: f"unseen-{n}")
    real = st.sampled_from(real_ids)
    return st.one_of(
        fresh.map(
            lambda u: (
                "empty Linkedid",
                b"".join(caller_call({"Uniqueid": u, "Linkedid": ""}, "01632960001", 1, 3)),
            )
        ),
        st.tuples(unseen, st.one_of(real, fresh)).map(
            lambda ids: (
                "unseen hangup",
                frame("Hangup", T0, Cause="16", Uniqueid=ids[0], Linkedid=ids[1]),
            )
        ),
        fresh.map(
            lambda u: (
                "long caller",
                frame(
                    "Newchannel",
                    T0,
                    Uniqueid=u,
                    Linkedid=u,
                    Exten="2001",
                    CallerIDNum="0" * 100_000,
                ),
            )
        ),
        real.map(
            lambda r: (
                "long rewrite",
                frame("NewCallerid", T0, Uniqueid=r, Linkedid=r, CallerIDNum="0" * 100_000),
            )
        ),
        st.tuples(fresh, st.sampled_from(["soon", "inf", "1e20", "-1"])).map(
            lambda f: (
                "bad timestamp",
                frame("Newchannel", f[1], Uniqueid=f[0], Linkedid=f[0], Exten="2001"),
            )
        ),
        st.sampled_from(NOT_A_MESSAGE_FRAMES).map(lambda junk: (NOT_A_MESSAGE, junk)),
        st.just((OVERSIZE, OVERSIZE_FRAME)),
    )


def replayed(stream: bytes, chunk_sizes: list[int]) -> tuple[CallPipeline, Batch]:
    pipeline, batch, start = new_pipeline(LINES), Batch(), 0
    pipeline.frames.max_frame_bytes = FUZZ_MAX_FRAME_BYTES
    sizes = iter(chunk_sizes * (len(stream) // sum(chunk_sizes) + 1))
    while start < len(stream):
        end = start + next(sizes)
        batch.extend(pipeline.feed_bytes(stream[start:end], RECEIVED_AT))
        start = end
    batch.extend(pipeline.link_lost("end of the recording"))
    return pipeline, batch


def text_fields(record) -> dict[str, str]:
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name in BOUNDS}


BOUNDS = {"call_id": MAX_ID_CHARS, "caller": MAX_NUMBER_CHARS, "dialled": MAX_NUMBER_CHARS}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(RECORDED),
    st.data(),
    st.lists(st.integers(min_value=1, max_value=65536), min_size=1, max_size=50),
)
def test_malformations_injected_into_recorded_calls_lose_no_call_and_store_no_nonsense(
    name, data, chunk_sizes
):
    stream = (FIXTURES / f"{name}.ami").read_bytes()
    injected = data.draw(st.lists(malformations(recorded_call_ids(stream)), min_size=1, max_size=6))
    frame_ends = [i + 4 for i in range(len(stream)) if stream.startswith(b"\r\n\r\n", i)]
    polluted = stream
    for _, junk in injected:
        cut = data.draw(st.sampled_from(frame_ends))
        polluted = polluted[:cut] + junk + polluted[cut:]
        frame_ends = [end + len(junk) if end > cut else end for end in frame_ends]
    clean_pipeline, clean = replayed(stream, [len(stream)])
    pipeline, batch = replayed(polluted, chunk_sizes)

    by_id = {call.call_id: call for call in batch.calls}
    assert [by_id.get(call.call_id) for call in clean.calls] == clean.calls
    assert all(dialled in batch.dialled for dialled in clean.dialled)
    assert all(obligation in batch.obligations for obligation in clean.obligations)
    for record in [*batch.calls, *batch.dialled]:
        for name_, value in text_fields(record).items():
            assert len(value) <= BOUNDS[name_] and value.isprintable(), (name_, value[:40])

    kinds = Counter(kind for kind, _ in injected)
    added = pipeline.tracker.anomalies - clean_pipeline.tracker.anomalies
    assert added[NO_LINKEDID] == 2 * kinds["empty Linkedid"]
    assert added[UNREADABLE_TIMESTAMP] == kinds["bad timestamp"]
    hangups = (HANGUP_OF_UNSEEN_CHANNEL, NOT_TRACKED.format("Hangup"))
    assert sum(added[kind] for kind in hangups) == kinds["unseen hangup"]
    assert pipeline.skipped.by_kind == Counter(
        {kind: kinds[kind] for kind in (NOT_A_MESSAGE, OVERSIZE) if kinds[kind]}
    )
