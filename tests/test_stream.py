"""The record stream on its own: order, isolation of a sink that raises, bounded logging."""

import logging
from datetime import UTC, datetime

from ringtest.core.records import AnsweredBy
from ringtest.core.stream import (
    CallAnswered,
    CallRinging,
    RecordStream,
    change_key,
)

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ringing(call_id: str) -> CallRinging:
    return CallRinging(call_id, "lab", "2001", "Council Tax", "+441382000199", False, AT)


def answered(call_id: str) -> CallAnswered:
    return CallAnswered(call_id, "lab", "2001", "Council Tax", AnsweredBy.PERSON, AT, 1.5, 1)


class ListSink:
    def __init__(self) -> None:
        self.changes = []

    def handle(self, changes) -> None:
        self.changes += changes


class RefusesCall:
    """A sink with a bug: it raises on every change of one call, takes the others."""

    def __init__(self, call_id: str) -> None:
        self.call_id = call_id
        self.changes = []

    def handle(self, changes) -> None:
        if any(change.call_id == self.call_id for change in changes):
            raise ValueError(f"cannot show {self.call_id}")
        self.changes += changes


def test_every_sink_gets_every_change_in_publishing_order():
    stream = RecordStream()
    first, second = ListSink(), ListSink()
    stream.subscribe("first", first.handle)
    stream.subscribe("second", second.handle)
    stream.publish([ringing("a"), ringing("b")])
    stream.publish([])
    stream.publish([answered("a")])
    assert first.changes == second.changes == [ringing("a"), ringing("b"), answered("a")]


def test_a_sink_that_raises_still_gets_the_other_calls_and_the_next_sink_gets_all(caplog):
    stream = RecordStream()
    broken, healthy = RefusesCall("b"), ListSink()
    stream.subscribe("live-view", broken.handle)
    stream.subscribe("store", healthy.handle)
    with caplog.at_level(logging.ERROR, logger="ringtest.core.stream"):
        stream.publish([ringing("a"), ringing("b"), answered("a")])
        stream.publish([answered("b")])
    assert broken.changes == [ringing("a"), answered("a")]
    assert healthy.changes == [ringing("a"), ringing("b"), answered("a"), answered("b")]
    assert stream.sink_errors == {"live-view": 2}
    assert [record.getMessage() for record in caplog.records] == [
        "sink live-view failed on call lab/b: ValueError: cannot show b"
    ]


def test_change_keys_name_the_call_or_test_they_are_about():
    assert change_key(ringing("1700000000.1")) == "call lab/1700000000.1"
    assert change_key(answered("1700000000.2")) == "call lab/1700000000.2"
