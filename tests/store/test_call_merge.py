"""Contract: a resync merges into the stored call, never downgrades it (issue 11, item 3).

After a link loss a call answered by a person is stored ``incomplete`` with its
answer and ring time; after the reconnect ``CoreShowChannels`` adopts it again,
and its end is stored ``incomplete`` once more, knowing neither. The second save
must keep what the first knew. Checked on the store alone, then through the
pipeline with a recorded stream cut after the answer.
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from ami_listener.frames import FrameBuffer
from ami_listener.message import AmiMessage, parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline, StreamSink
from ami_listener.recording import read_chunks
from ami_listener.tracker import CallTracker
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.standards import Standards
from ringtest.core.stream import CallAnswered, RecordStream
from ringtest.lab.settings import lab_lines
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from tests.store.builders import MONDAY_9AM, call_record

FIXTURE = Path(__file__).parents[1] / "fixtures" / "ami" / "person_answers_after_1500ms.ami"
LOST = "AMI link to 127.0.0.1:5038 lost at 2025-03-03T09:00:20+00:00"
ADOPTED = "in progress when the listener connected at 2025-03-03T09:00:25+00:00"


def lost_after_the_answer(**overrides):
    """The call as stored at the link loss: answered by a person, its end unseen."""
    fields = dict(outcome=CallOutcome.INCOMPLETE, ended_at=None, gap_note=LOST)
    return call_record(**(fields | overrides))


def adopted_after_the_reconnect(**overrides):
    """The same call adopted by CoreShowChannels: its start estimated, no answer seen."""
    fields = dict(
        started_at=MONDAY_9AM + timedelta(seconds=0.6),
        ring_started_at=None,
        answered_at=None,
        answered_by=AnsweredBy.NONE,
        ring_seconds=None,
        rings=None,
        outcome=CallOutcome.INCOMPLETE,
        within_standard=False,
        ivr_seconds=None,
        gap_note=ADOPTED,
    )
    return call_record(**(fields | overrides))


def test_adopted_call_keeps_the_stored_answer_ring_time_start_and_note_and_adds_its_end(
    store: Store,
):
    store.save_calls([lost_after_the_answer()])
    store.save_calls([adopted_after_the_reconnect()])

    [merged] = store.calls()
    assert merged == lost_after_the_answer(ended_at=call_record().ended_at)


def test_the_two_saves_in_one_batch_merge_the_same_way(store: Store):
    store.save_calls([lost_after_the_answer(), adopted_after_the_reconnect()])

    [merged] = store.calls()
    assert merged == lost_after_the_answer(ended_at=call_record().ended_at)


def test_a_complete_record_replaces_a_stored_incomplete_one_whole(store: Store):
    store.save_calls([lost_after_the_answer()])
    complete = call_record(answered_by=AnsweredBy.VOICEMAIL, ring_seconds=30.0, gap_note=None)
    store.save_calls([complete])

    assert store.calls() == [complete]


def test_an_incomplete_record_never_replaces_a_stored_complete_one(store: Store):
    store.save_calls([call_record()])
    store.save_calls([adopted_after_the_reconnect()])

    assert store.calls() == [call_record()]


def test_an_incomplete_record_that_knows_more_wins_over_a_stored_incomplete_one(store: Store):
    ivr_only = lost_after_the_answer(
        answered_by=AnsweredBy.IVR, ring_started_at=None, ring_seconds=None, rings=None
    )
    store.save_calls([ivr_only])
    person_later = adopted_after_the_reconnect(
        answered_at=MONDAY_9AM + timedelta(seconds=40),
        answered_by=AnsweredBy.PERSON,
        ring_started_at=MONDAY_9AM + timedelta(seconds=30),
        ring_seconds=10.0,
        rings=4,
    )
    store.save_calls([person_later])

    [merged] = store.calls()
    assert (merged.answered_by, merged.answered_at) == (AnsweredBy.PERSON, person_later.answered_at)
    assert (merged.ring_seconds, merged.rings) == (10.0, 4)
    assert merged.started_at == MONDAY_9AM
    assert merged.gap_note == LOST


# Through the pipeline: a recorded call, the link lost after the answer, then adopted.


def recorded_messages() -> list[tuple[AmiMessage, object]]:
    frames = FrameBuffer()
    return [
        (parse_frame(frame), received_at)
        for received_at, chunk in read_chunks(FIXTURE)
        for frame in frames.feed(chunk)
    ]


def core_show_channel(uniqueid: str, linkedid: str, exten: str, duration: str) -> AmiMessage:
    return parse_frame(
        f"Event: CoreShowChannel\r\nUniqueid: {uniqueid}\r\nLinkedid: {linkedid}\r\n"
        f"CallerIDNum: +441382000199\r\nExten: {exten}\r\nDuration: {duration}".encode()
    )


def test_a_call_answered_before_a_link_loss_stays_answered_after_the_resync(store: Store):
    standards = Standards()
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))
    stream = RecordStream()
    messages = iter(recorded_messages())
    with StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        sink = StreamSink(stream)
        answered_at = None
        for message, received_at in messages:
            batch = pipeline.feed_message(message, received_at)
            sink.write(batch)
            answers = [c for c in batch.changes if isinstance(c, CallAnswered)]
            if any(answer.answered_by is AnsweredBy.PERSON for answer in answers):
                answered_at = answers[0].answered_at
                break
        assert answered_at is not None, "the recording has a person answering"
        lost = pipeline.link_lost(LOST)
        [call] = lost.calls
        sink.write(lost)
        resynced_at = answered_at + timedelta(seconds=2)
        duration = math.floor((resynced_at - call.started_at).total_seconds())
        for uniqueid in ("1795389325.45", "1795389325.46"):
            channel = core_show_channel(uniqueid, "1795389325.45", "2001", f"00:00:{duration:02}")
            pipeline.tracker.adopt_in_flight(channel, resynced_at, note=ADOPTED)
        for message, received_at in messages:  # the rest, after the resync
            sink.write(pipeline.feed_message(message, received_at))
    [merged] = [c for c in store.calls() if c.caller == "+441382000199"]
    assert merged.outcome is CallOutcome.INCOMPLETE
    assert (merged.answered_by, merged.answered_at) == (AnsweredBy.PERSON, answered_at)
    assert merged.ring_seconds == pytest.approx(1.5, abs=0.05)
    assert merged.rings == 1 and merged.within_standard
    assert merged.started_at == call.started_at
    assert merged.ended_at is not None and merged.ended_at > answered_at
    assert merged.gap_note == LOST
