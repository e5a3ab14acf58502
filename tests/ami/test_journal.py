"""The journal: every byte kept before it is processed, rotated, bounded, replayed from its
checkpoint; and the listener that keeps reading while the store is stuck.

Fault injection with fakes: a store whose writes block, /dev/full under the journal,
the fake AMI of tests/ami/fake_ami.py. Conditions are awaited with deadlines.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from datetime import UTC, datetime, timedelta

from ami_listener.checkpoint import UnstoredCalls
from ami_listener.frames import FrameBuffer
from ami_listener.journal import Journal
from ami_listener.journal_replay import replay_journal
from ami_listener.listener import Listener, ListenerSettings
from ami_listener.message import parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline, StreamSink
from ami_listener.recording import read_chunks
from ami_listener.tracker import CallTracker
from ringtest.core.records import CallOutcome
from ringtest.core.standards import Standards
from ringtest.core.stream import CallEnded, RecordStream
from ringtest.lab.settings import lab_lines
from ringtest.store.writer import StoreWriter
from tests.ami.fake_ami import FakeAmi
from tests.ami.test_listener import CollectingSink, recorded_events, run_with_fake, until

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ID_HEADER = re.compile(rb"^(\w*(?:Uniqueid|Linkedid)): (\S+)\r$", re.MULTILINE)


def numbered_calls(count: int, name: str = "ring_group_answers_after_1200ms") -> bytes:
    """`count` copies of a recorded call, each with its own channel ids (one call each)."""
    events = recorded_events(name)
    return b"".join(
        ID_HEADER.sub(lambda m, n=n: m[1] + b": " + m[2] + b"-%d\r" % n, events)
        for n in range(count)
    )


def new_pipeline() -> CallPipeline:
    standards = Standards()
    return CallPipeline(CallTracker("lab", lab_lines(), standards), CallbackLedger(standards))


def replayed_calls(journal: Journal) -> list:
    sink = CollectingSink()
    replay_journal(journal, new_pipeline(), sink)
    return [call for batch in sink.batches for call in batch.calls]


def test_chunks_come_back_from_any_position_across_segments(tmp_path):
    journal = Journal(tmp_path, "lab", segment_bytes=200)
    positions = [journal.append(AT + timedelta(seconds=n), b"x" * 90) for n in range(6)]
    journal.close()

    assert len(list(tmp_path.glob("lab.*.ami"))) == 3
    reopened = Journal(tmp_path, "lab", segment_bytes=200)
    assert reopened.end == journal.end
    assert [c.position for c in reopened.chunks_from(positions[3])] == positions[3:]
    assert [c.received_at for c in reopened.chunks_from(0)] == [
        AT + timedelta(seconds=n) for n in range(6)
    ]
    for segment in tmp_path.glob("lab.*.ami"):
        assert segment.stat().st_mode & 0o777 == 0o600
        assert [len(chunk) for _, chunk in read_chunks(segment)] == [90, 90]


def test_checkpoint_is_persisted_and_deletes_the_segments_it_passed(tmp_path):
    journal = Journal(tmp_path, "lab", segment_bytes=200)
    positions = [journal.append(AT, b"x" * 90) for _ in range(6)]
    journal.advance_checkpoint(positions[4])

    assert len(list(tmp_path.glob("lab.*.ami"))) == 1
    assert (tmp_path / "lab.checkpoint").read_text() == f"{positions[4]}\n"
    journal.close()
    reopened = Journal(tmp_path, "lab")
    assert reopened.checkpoint == positions[4]
    assert [c.position for c in reopened.chunks_from(reopened.checkpoint)] == positions[4:]


def test_journal_over_its_bound_deletes_the_oldest_segment_and_says_so(tmp_path, caplog):
    journal = Journal(tmp_path, "lab", segment_bytes=200, max_bytes=500)
    for _ in range(8):
        journal.append(AT, b"x" * 90)

    total = sum(path.stat().st_size for path in tmp_path.glob("lab.*.ami"))
    assert total <= 500
    assert "AMI journal over its 0 MB bound: deleted" in caplog.text


def test_a_full_disk_is_counted_logged_and_not_durable_and_the_next_chunk_is_tried(
    tmp_path, caplog
):
    journal = Journal(tmp_path, "lab")
    journal.append(AT, b"kept")
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, journal._file)  # the disk fills up under the open segment
    os.close(full)

    journal.append(AT, b"lost")
    journal.append(AT, b"written to a new segment")

    assert (journal.durable, journal.failed_chunks, journal.failed_bytes) == (False, 1, 4)
    assert "No space left on device" in caplog.text
    journal.close()
    assert [c.data for c in Journal(tmp_path, "lab").chunks_from(0)] == [
        b"kept",
        b"written to a new segment",
    ]


def test_replay_finishes_calls_open_at_a_listener_restart_as_stopped_and_keeps_later_ones(
    tmp_path,
):
    first_run = Journal(tmp_path, "lab")
    first_run.append(AT, b"")
    cut = numbered_calls(1)
    first_run.append(AT, cut[: len(cut) // 2])
    first_run.close()
    second_run = Journal(tmp_path, "lab")
    second_run.append(AT + timedelta(seconds=5), b"")
    second_run.append(AT + timedelta(seconds=5), numbered_calls(3)[len(cut) :])
    second_run.close()

    calls = replayed_calls(Journal(tmp_path, "lab"))

    assert [call.outcome for call in calls] == [
        CallOutcome.INCOMPLETE,
        CallOutcome.ANSWERED,
        CallOutcome.ANSWERED,
    ]
    assert calls[0].gap_note.startswith(f"listener stopped at {AT.isoformat()}")
    assert len({call.call_id for call in calls}) == 3


def test_checkpoint_waits_for_the_first_call_not_stored_then_moves_to_the_next_frame():
    unstored = UnstoredCalls()
    pipeline = new_pipeline()
    calls = numbered_calls(2)
    sink = CollectingSink()
    frames = pipeline.frames
    for position, frame in enumerate(frames.feed(calls), start=100):
        message = parse_frame(frame)
        before = pipeline.tracker.open_call_count
        batch = pipeline.feed_message(message, AT)
        unstored.after_event(message, batch, before, pipeline.tracker.open_call_count, position)
        sink.write(batch)
    ended = [change for b in sink.batches for change in b.changes if isinstance(change, CallEnded)]
    assert len(ended) == 2
    first_began = unstored.checkpoint(10_000)
    assert 100 < first_began < 10_000

    unstored.stored(ended[:1])
    assert first_began < unstored.checkpoint(10_000) < 10_000
    unstored.stored(ended[1:])
    assert unstored.checkpoint(10_000) == 10_000


class BlockedStore:
    """A store whose writes block until `release` is set, as a locked database does."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.saved: list = []

    def save_calls(self, records) -> int:
        self.release.wait()
        self.saved += records
        return len(records)

    def save_obligations(self, obligations) -> None:
        self.release.wait()

    def save_listener_seen(self, pbx, instant) -> None:
        self.release.wait()


def listener_on(fake: FakeAmi, stream: RecordStream, journal: Journal, unstored) -> Listener:
    settings = ListenerSettings(
        host="127.0.0.1",
        port=fake.port,
        user="listener",
        secret="right",
        ping_interval_seconds=5.0,
        checkpoint_interval_seconds=0.05,
    )
    return Listener(
        settings, new_pipeline(), StreamSink(stream), journal=journal, unstored=unstored
    )


def test_reader_keeps_reading_while_the_store_is_blocked_and_the_journal_holds_every_call(
    tmp_path, caplog
):
    calls = 200
    stream = RecordStream()
    store = BlockedStore()
    writer = StoreWriter(store, max_queued_changes=50, close_within_seconds=0.2)
    stream.subscribe("store", writer.handle)
    journal = Journal(tmp_path, "lab")
    unstored = UnstoredCalls()
    writer.notify_stored(unstored.stored)
    expected_messages = sum(
        parse_frame(frame).event is not None
        for frame in FrameBuffer().feed(b"Asterisk Call Manager/1\r\n" + numbered_calls(calls))
    )

    async def main() -> Listener:
        fake = await FakeAmi().start()
        listener = listener_on(fake, stream, journal, unstored)
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        try:
            await until(lambda: fake.logins >= 1)
            fake.push(numbered_calls(calls))
            await until(lambda: listener.pipeline.counters.messages >= expected_messages, 20)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await fake.stop()
        return listener

    with caplog.at_level(logging.WARNING):
        listener = asyncio.run(main())
    writer.close()
    store.release.set()
    journal.close()

    assert listener.pipeline.counters.messages == expected_messages
    assert writer.deferred_changes > 0
    assert "store is falling behind" in caplog.text
    replayed = replayed_calls(Journal(tmp_path, "lab"))
    assert len(replayed) == calls
    assert {call.outcome for call in replayed} == {CallOutcome.ANSWERED}


def test_checkpoint_reaches_the_end_once_the_store_took_every_call(tmp_path):
    stream = RecordStream()
    store = BlockedStore()
    store.release.set()
    writer = StoreWriter(store)
    stream.subscribe("store", writer.handle)
    journal = Journal(tmp_path, "lab")
    unstored = UnstoredCalls()
    writer.notify_stored(unstored.stored)

    async def main() -> None:
        fake = await FakeAmi().start()
        listener = listener_on(fake, stream, journal, unstored)
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        try:
            await until(lambda: fake.logins >= 1)
            fake.push(numbered_calls(5))
            await until(lambda: len(store.saved) == 5)
            await until(lambda: journal.checkpoint == journal.end)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await fake.stop()

    asyncio.run(main())
    writer.close()
    journal.close()
    assert list(Journal(tmp_path, "lab").chunks_from(journal.checkpoint)) == []


def test_link_loss_is_dated_when_the_pbx_sent_its_last_event_never_after_it_was_read():
    async def scenario(fake, sink, listener):
        events = recorded_events("ring_group_answers_after_1200ms")
        fake.push(events[: len(events) // 2])
        await until(lambda: listener.pipeline.tracker.open_call_count == 1)
        await asyncio.sleep(0.2)  # every pushed event read
        last_sent_at, last_read_at = listener.stats.last_event_sent_at, listener.stats.last_event_at
        fake.drop_all()
        await until(lambda: any(b.calls for b in sink.batches))
        [cut] = [call for b in sink.batches for call in b.calls]
        assert cut.gap_note == (
            f"AMI link to 127.0.0.1:{fake.port} lost at {last_sent_at.isoformat()}"
        )
        assert last_sent_at <= last_read_at

    run_with_fake(scenario)
