"""One `ListenerStats` per listener: its counts survive a reconnect, and it is logged.

Fault injection against the fake AMI (tests/ami/fake_ami.py): an oversize frame,
an event that does not fit a call, a handler that raises once and a store whose
first write fails, then the link is dropped and reopened.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ami_listener.frames import DEFAULT_MAX_FRAME_BYTES
from ami_listener.listener import Listener, ListenerSettings
from ami_listener.message import AmiMessage
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline, StreamSink
from ami_listener.stats import ListenerStats
from ami_listener.tracker import CallTracker
from ringtest.core.standards import Standards
from ringtest.core.stream import ListenerHeartbeat, RecordStream
from ringtest.lab.settings import lab_lines
from ringtest.store.writer import StoreWriter
from tests.ami.fake_ami import FakeAmi

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ami"
OVERSIZE_FRAME = b"Event: VarSet\r\nValue: " + b"x" * DEFAULT_MAX_FRAME_BYTES + b"\r\n\r\n"
STRAY_HANGUP = (
    b"Event: Hangup\r\nTimestamp: 1795000000.000000\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n"
)
"""A hang-up of a call never seen: one anomaly of `STRAY`'s kind."""
STRAY = "Hangup for a call not being tracked"


class FlakyStore:
    """Fails its first write, as a database that is briefly locked would."""

    def __init__(self) -> None:
        self.failures = 1
        self.calls = []

    def save_calls(self, records) -> int:
        if self.failures:
            self.failures -= 1
            raise OSError("database is locked")
        self.calls += records
        return len(records)

    def save_obligations(self, obligations) -> None:
        pass

    def save_gaps(self, gaps) -> int:
        return len(gaps)

    def save_listener_seen(self, pbx, seen_until) -> None:
        pass


class RaisesOnce:
    """A sink in front of another that raises on the first non-empty batch of an event
    (a bug); the heartbeat published after each resync passes through."""

    def __init__(self, sink) -> None:
        self.sink = sink
        self.raised = False

    def write(self, batch: Batch) -> None:
        heartbeat = all(isinstance(change, ListenerHeartbeat) for change in batch.changes)
        if batch and not heartbeat and not self.raised:
            self.raised = True
            raise ValueError("bug in a sink")
        self.sink.write(batch)


def recorded_events(name: str) -> bytes:
    stream = (FIXTURES / f"{name}.ami").read_bytes()
    return stream[stream.index(b"\r\n") + 2 :]


async def until(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_counts_survive_a_reconnect_and_a_summary_is_logged(caplog):
    standards = Standards()
    store = FlakyStore()

    async def main():
        fake = await FakeAmi().start()
        stream = RecordStream()
        pipeline = CallPipeline(
            CallTracker("lab", lab_lines(), standards), CallbackLedger(standards)
        )
        settings = ListenerSettings(
            host="127.0.0.1",
            port=fake.port,
            user="listener",
            secret="right",
            first_backoff_seconds=0.05,
            stats_interval_seconds=0.05,
        )
        listener = Listener(settings, pipeline, RaisesOnce(StreamSink(stream)))
        with StoreWriter(store, retry_seconds=0.01) as writer:
            stream.subscribe("store", writer.handle)
            listener.stats.watch_writer(writer)
            stop = asyncio.Event()
            task = asyncio.create_task(listener.run(stop))
            try:
                await until(lambda: fake.logins >= 1)
                fake.push(OVERSIZE_FRAME + STRAY_HANGUP)
                fake.push(recorded_events("person_answers_after_1500ms"))
                await until(lambda: store.calls)
                before = listener.stats.as_dict()
                fake.drop_all()
                await until(lambda: fake.logins >= 2)
                fake.push(STRAY_HANGUP + recorded_events("busy_line"))
                await until(lambda: listener.stats.messages > before["messages"] + 1)
                await until(lambda: any("2 connects" in r.getMessage() for r in caplog.records))
                after = listener.stats.as_dict()
            finally:
                stop.set()
                await asyncio.wait_for(task, 5)
                await fake.stop()
        return before, after

    with caplog.at_level(logging.INFO, logger="ami_listener.listener"):
        before, after = asyncio.run(main())
    assert (before["connects"], after["connects"]) == (1, 2)
    assert before["oversize_frames"] == after["oversize_frames"] == 1
    assert before["handler_errors"] == after["handler_errors"] == 1
    assert before["write_errors"] == after["write_errors"] == 1
    assert all(after["anomalies"][kind] >= count for kind, count in before["anomalies"].items())
    assert after["anomalies"][STRAY] > before["anomalies"][STRAY] >= 1
    assert after["messages"] > before["messages"]
    assert after["last_event_at"] > before["last_event_at"]
    assert after["clock_offset_seconds"] is not None
    summaries = [r.getMessage() for r in caplog.records if " messages, " in r.getMessage()]
    assert summaries[-1].startswith("AMI 127.0.0.1:")
    assert ", 1 oversize frames, 1 handler errors, 1 write errors, " in summaries[-1]
    assert "+441382000199" not in "\n".join(summaries), "no caller numbers at INFO"


def event_sent_at(seconds: float) -> AmiMessage:
    return AmiMessage.from_frame(f"Event: Newstate\r\nTimestamp: {seconds:.6f}\r\n".encode())


def test_a_reader_frozen_while_the_pbx_gave_up_dates_its_last_sight_when_the_pbx_sent():
    standards = Standards()
    tracker = CallTracker("lab", lab_lines(), standards)
    stats = ListenerStats(CallPipeline(tracker, CallbackLedger(standards)))
    at = datetime(2026, 12, 4, 7, 17, tzinfo=UTC)
    pbx_ahead = 0.25  # the PBX clock is a quarter second ahead of ours
    stats.event_received(event_sent_at(at.timestamp() + pbx_ahead), at)
    # frozen 30 s: the next event, sent 2 s later, is read only when the reader thaws
    stats.event_received(event_sent_at(at.timestamp() + pbx_ahead + 2), at + timedelta(seconds=32))

    assert stats.last_event_at == at + timedelta(seconds=32)
    assert stats.last_event_sent_at == at + timedelta(seconds=2)
    assert stats.clock_offset_seconds == pytest.approx(pbx_ahead)


def test_connected_since_is_the_current_links_login_and_none_while_disconnected():
    class Link:
        handler_errors = oversize_frames = garbage_frames = 0

    standards = Standards()
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))
    stats = ListenerStats(pipeline)
    assert stats.connected_since is None
    before = datetime.now(UTC)
    stats.link_opened(Link())  # type: ignore[arg-type]
    assert stats.connected_since is not None and stats.connected_since >= before
    stats.link_closed()
    assert stats.connected_since is None
