"""Every interval in which the listener did not see its PBX is published as a gap.

Against the fake AMI (tests/ami/fake_ami.py): the link dropped and reopened,
the PBX restarted (``CoreStatus`` names a new startup time), and the listener
itself stopped and started again, with a real store in between (SQLite) keeping
when the PBX was last seen. Conditions are awaited with deadlines.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ami_listener.frames import FrameBuffer
from ami_listener.listener import Listener
from ami_listener.message import parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline, StreamSink
from ami_listener.tracker import CallTracker
from ringtest.core.records import CoverageGap, GapReason
from ringtest.core.standards import Standards
from ringtest.core.stream import GapObserved, ListenerHeartbeat, RecordStream
from ringtest.lab.settings import lab_lines
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from tests.ami.fake_ami import FakeAmi
from tests.ami.test_listener import CollectingSink, make_listener, recorded_events, until


def gaps_in(sink: CollectingSink) -> list[CoverageGap]:
    return [c.gap for b in sink.batches for c in b.changes if isinstance(c, GapObserved)]


def run_scenario(scenario, sink=None, make=make_listener):
    async def main():
        fake = await FakeAmi().start()
        collected = sink or CollectingSink()
        listener = make(fake, collected)
        stop = asyncio.Event()
        task = asyncio.create_task(listener.run(stop))
        try:
            await until(lambda: listener.connects >= 1)
            await scenario(fake, listener)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await fake.stop()
        return collected, listener

    return asyncio.run(main())


async def push_and_wait(fake: FakeAmi, listener: Listener) -> None:
    """Push a recorded call and wait until the listener has read every event of it."""
    events = recorded_events("person_answers_after_1500ms")
    frames = FrameBuffer()
    frames.banner = ""
    count = sum(parse_frame(frame).event is not None for frame in frames.feed(events))
    expected = listener.stats.messages + count
    fake.push(events)
    await until(lambda: listener.stats.messages >= expected)


async def events_then_drop(fake: FakeAmi, listener: Listener, restart_as: str | None = None):
    """Push a recorded call, wait for it, drop the link (or restart), wait for the resync;
    returns the last event's receive time before the drop."""
    await push_and_wait(fake, listener)
    last_event_at = listener.stats.last_event_at
    if restart_as is None:
        fake.drop_all()
    else:
        fake.restart(restart_as)
    await until(lambda: listener.connects >= 2)
    return last_event_at


def test_a_dropped_link_is_one_gap_from_the_last_event_to_the_resync():
    seen = {}

    async def scenario(fake, listener):
        seen["last_event_at"] = await events_then_drop(fake, listener)
        seen["reconnected_by"] = datetime.now(UTC)
        await until(lambda: gaps_in(sink))

    sink = CollectingSink()
    run_scenario(scenario, sink)
    [gap] = gaps_in(sink)
    assert gap.pbx == "lab"
    assert gap.reason is GapReason.LINK_LOST
    assert gap.started_at == seen["last_event_at"]
    assert gap.started_at < gap.ended_at <= datetime.now(UTC)


def test_a_pbx_restart_is_told_by_its_new_startup_time():
    async def scenario(fake, listener):
        await events_then_drop(fake, listener, restart_as="2026-11-23 09:15:00")
        await until(lambda: gaps_in(sink))

    sink = CollectingSink()
    run_scenario(scenario, sink)
    [gap] = gaps_in(sink)
    assert gap.reason is GapReason.PBX_RESTARTED


def test_a_link_that_stays_up_has_no_gap_and_a_first_run_none_either():
    async def scenario(fake, listener):
        await push_and_wait(fake, listener)

    sink, _ = run_scenario(scenario)
    assert gaps_in(sink) == []
    heartbeats = [c for b in sink.batches for c in b.changes if isinstance(c, ListenerHeartbeat)]
    assert heartbeats, "the listener tells where it last saw the PBX"


def heartbeats_in(sink: CollectingSink) -> list[ListenerHeartbeat]:
    return [c for b in sink.batches for c in b.changes if isinstance(c, ListenerHeartbeat)]


def test_the_first_heartbeat_is_published_right_after_the_resync_not_an_interval_later():
    """A listener killed within its first heartbeat interval still leaves the instant it
    last saw the PBX, so its next start stores the gap."""

    def make(fake, sink):
        listener = make_listener(fake, sink)
        listener.settings = replace(listener.settings, heartbeat_seconds=3600.0)
        return listener

    seen = {}

    async def scenario(fake, listener):
        await until(lambda: heartbeats_in(sink))
        seen["heartbeats"] = heartbeats_in(sink)

    sink = CollectingSink()
    run_scenario(scenario, sink, make=make)
    [heartbeat] = seen["heartbeats"]
    assert heartbeat.pbx == "lab"
    assert heartbeat.seen_until <= datetime.now(UTC)


def listener_on(store: Store, stream: RecordStream):
    """A listener like `make_listener`, publishing on `stream`, told what `store` knows."""

    def make(fake, _sink):
        listener = make_listener(fake, _sink)
        standards = Standards()
        pipeline = CallPipeline(
            CallTracker("lab", lab_lines(), standards), CallbackLedger(standards)
        )
        return Listener(
            replace(listener.settings, heartbeat_seconds=0.05),
            pipeline,
            StreamSink(stream),
            seen_until_before_start=store.listener_seen_until("lab"),
        )

    return make


def test_a_listener_stopped_and_started_again_stores_the_gap_between(tmp_path: Path):
    with Store.open(f"sqlite:///{tmp_path / 'ringtest.db'}") as store:
        stream = RecordStream()
        with StoreWriter(store) as writer:
            stream.subscribe("store", writer.handle)
            seen = {}

            async def first_run(fake, listener):
                await push_and_wait(fake, listener)
                seen["last_event_at"] = listener.stats.last_event_at
                await until(lambda: store.listener_seen_until("lab") == seen["last_event_at"])

            run_scenario(first_run, make=listener_on(store, stream))
            stopped_by = datetime.now(UTC)

            async def second_run(fake, listener):
                await until(lambda: store.gaps())

            run_scenario(second_run, make=listener_on(store, stream))
        [gap] = store.gaps()
    assert gap.reason is GapReason.LISTENER_DOWN
    assert gap.started_at == seen["last_event_at"]
    assert stopped_by < gap.ended_at <= datetime.now(UTC)


def test_an_adopted_call_counts_its_start_back_from_the_pbx_clock():
    standards = Standards()
    tracker = CallTracker("lab", lab_lines(), standards)
    pbx_now = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)
    channel = parse_frame(
        f"Event: CoreShowChannel\r\nTimestamp: {pbx_now.timestamp():.6f}\r\n"
        "Uniqueid: 1.1\r\nLinkedid: 1.1\r\nExten: 2001\r\nDuration: 00:00:12".encode()
    )
    listener_clock = pbx_now - timedelta(hours=1)
    tracker.adopt_in_flight(channel, listener_clock, note="adopted")
    [call] = tracker.open_calls()
    assert call.started_at == pbx_now - timedelta(seconds=12)
