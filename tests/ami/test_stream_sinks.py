"""Lab recordings replayed onto the record stream, with the store as one subscriber of several.

A second sink sees each call as it happens (ringing, answered, ended) with the
ring times the store keeps; a sink that raises costs the store nothing and is
logged once per call.
"""

import logging
from pathlib import Path

import pytest

from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline, StreamSink, replay_file
from ami_listener.tracker import CallTracker
from ringtest.core.records import AnsweredBy
from ringtest.core.standards import Standards
from ringtest.core.stream import (
    CallAnswered,
    CallEnded,
    CallRinging,
    ObligationChanged,
    RecordStream,
)
from ringtest.lab.settings import lab_lines
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"
RINGTESTER = "+441382000199"
PERSON_ANSWERS = [
    "person_answers_after_1500ms",
    "ring_group_answers_after_1200ms",
    "queue_answers_after_1500ms",
    "rrmemory_queue_answers_after_1700ms",
    "local_channel_answers_after_1300ms",
    "blind_transfer_answered_after_1100ms",
    "attended_transfer_answered_after_1300ms",
]


class ListSink:
    def __init__(self) -> None:
        self.changes = []

    def handle(self, changes) -> None:
        self.changes += changes

    def of_call(self, call_id: str) -> list:
        return [
            change
            for change in self.changes
            if not isinstance(change, ObligationChanged)
            and (change.record if isinstance(change, CallEnded) else change).call_id == call_id
        ]


class LiveViewWithABug:
    """A sink that raises on every change about a call (it ignores obligations)."""

    def handle(self, changes) -> None:
        if any(not isinstance(change, ObligationChanged) for change in changes):
            raise RuntimeError("live view bug")


def replay_onto_stream(names: list[str], store: Store, *sinks: tuple[str, object]) -> None:
    """Replay each recording through its own pipeline onto one stream: the store first."""
    standards = Standards()
    stream = RecordStream()
    with StoreWriter(store) as writer:
        stream.subscribe("store", writer.handle)
        for name, sink in sinks:
            stream.subscribe(name, sink.handle)
        for fixture in names:
            pipeline = CallPipeline(
                CallTracker("lab", lab_lines(), standards), CallbackLedger(standards)
            )
            replay_file(FIXTURES / f"{fixture}.ami", pipeline, StreamSink(stream))


@pytest.fixture
def store(tmp_path):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as opened:
        yield opened


@pytest.mark.parametrize("name", PERSON_ANSWERS)
def test_second_sink_sees_ringing_answered_ended_with_the_ring_times_the_store_gets(name, store):
    live = ListSink()
    replay_onto_stream([name], store, ("live-view", live))
    answered_by_person = [c for c in store.calls() if c.answered_by is AnsweredBy.PERSON]
    assert RINGTESTER in [call.caller for call in answered_by_person]
    for stored in answered_by_person:
        ringing, answered, ended = live.of_call(stored.call_id)
        assert (type(ringing), type(answered), type(ended)) == (
            CallRinging,
            CallAnswered,
            CallEnded,
        )
        assert ringing.ring_started_at == stored.ring_started_at
        assert (answered.answered_by, answered.answered_at) == (
            AnsweredBy.PERSON,
            stored.answered_at,
        )
        assert (answered.ring_seconds, answered.rings) == (stored.ring_seconds, stored.rings)
        assert ended.record == stored


KINDS_OF_THE_RINGTESTERS_CALL = {
    "busy_line": ["ended"],
    "caller_abandons_after_2_rings": ["ringing", "ended"],
    "voicemail_after_12s": ["ringing", "answered by voicemail", "ended"],
    "caller_abandons_in_ivr": ["answered by ivr", "ended"],
    "ivr_then_person_after_1000ms": [
        "answered by ivr",
        "ringing",
        "answered by person",
        "ended",
    ],
}


def kind(change) -> str:
    if isinstance(change, CallAnswered):
        return f"answered by {change.answered_by.value}"
    return {CallRinging: "ringing", CallEnded: "ended"}[type(change)]


@pytest.mark.parametrize("name", list(KINDS_OF_THE_RINGTESTERS_CALL))
def test_calls_nobody_answered_at_once_show_what_the_caller_met_in_order(name, store):
    live = ListSink()
    replay_onto_stream([name], store, ("live-view", live))
    [call] = [call for call in store.calls() if call.caller == RINGTESTER]
    assert [kind(change) for change in live.of_call(call.call_id)] == (
        KINDS_OF_THE_RINGTESTERS_CALL[name]
    )


def test_a_sink_that_raises_costs_the_store_nothing_and_is_logged_once_per_call(store, caplog):
    names = PERSON_ANSWERS + list(KINDS_OF_THE_RINGTESTERS_CALL)
    healthy = ListSink()
    with caplog.at_level(logging.ERROR, logger="ringtest.core.stream"):
        replay_onto_stream(names, store, ("live-view", LiveViewWithABug()), ("metrics", healthy))
    ended = [change.record for change in healthy.changes if isinstance(change, CallEnded)]
    assert len(ended) > len(names)
    assert sorted(store.calls(), key=lambda c: c.call_id) == sorted(ended, key=lambda c: c.call_id)
    latest_obligations = {
        change.obligation.call_id: change.obligation
        for change in healthy.changes
        if isinstance(change, ObligationChanged)
    }
    assert latest_obligations
    assert sorted(store.obligations(), key=lambda o: o.call_id) == sorted(
        latest_obligations.values(), key=lambda o: o.call_id
    )
    first_seen = dict.fromkeys(
        (change.record if isinstance(change, CallEnded) else change).call_id
        for change in healthy.changes
        if not isinstance(change, ObligationChanged)
    )
    assert [record.getMessage() for record in caplog.records] == [
        f"sink live-view failed on call lab/{call_id}: RuntimeError: live view bug"
        for call_id in first_seen
    ]
