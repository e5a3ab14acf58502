"""Wiring for `ringtest listen` and `ringtest replay`: settings in, a running pipeline out.

This is where the pure AMI stages meet the outside world: the config says
which lines are monitored and what the standards are, the live socket or a
recording feeds the same `CallPipeline`, and what it makes of the events is
published on a `RecordStream`. The store is one subscriber of that stream (a
`StoreWriter` keeps the calls and the callback obligations); the store also
restores the obligations still owed after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ami_listener.listener import Listener, ListenerSettings
from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import CallPipeline, StreamSink, replay_file
from ami_listener.recording import Recorder
from ami_listener.tracker import CallTracker
from ringtest.config import Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.core.errors import PbxUnreachable
from ringtest.core.records import CallbackStatus
from ringtest.core.stream import RecordStream
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

log = logging.getLogger(__name__)


def build_pipeline(settings: Settings, store: Store) -> CallPipeline:
    """The tracker and callback ledger for the configured PBX, with owed callbacks restored."""
    standards = standards_of(settings)
    tracker = CallTracker(settings.ami.pbx, line_directory_of(settings), standards)
    owed = [
        obligation
        for status in (CallbackStatus.OPEN, CallbackStatus.OVERDUE)
        for obligation in store.obligations(status)
        if obligation.pbx == settings.ami.pbx
    ]
    return CallPipeline(tracker, CallbackLedger(standards, owed))


@dataclass(frozen=True)
class ReplaySummary:
    """What a replay stored: counts for the one-line report."""

    messages: int
    calls: int
    obligations: int
    anomalies: int


def replay(
    settings: Settings,
    recording: Path,
    store: Store,
    on_bytes: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Feed a recorded AMI stream through the tracker and a record stream into the store.

    on_bytes: told the size of each chunk of AMI bytes replayed (for progress)."""
    pipeline = build_pipeline(settings, store)
    stream = RecordStream()
    writer = StoreWriter(store)
    stream.subscribe("store", writer.handle)
    try:
        replay_file(recording, pipeline, StreamSink(stream), on_bytes=on_bytes)
    finally:
        writer.close()
    return ReplaySummary(
        messages=pipeline.counters.messages,
        calls=writer.calls_written,
        obligations=writer.obligations_written,
        anomalies=sum(pipeline.tracker.anomalies.values()),
    )


def make_listener(
    settings: Settings, store: Store, stream: RecordStream, recorder: Recorder | None = None
) -> Listener:
    """A listener for the configured AMI, publishing on `stream`.

    store: only read, to restore the callback obligations still owed and to learn
    when a listener last saw the PBX (where the gap of this start begins); subscribe
    a `StoreWriter` to `stream` to store what the listener sees.
    """
    ami = settings.ami
    listener_settings = ListenerSettings(
        host=ami.host,
        port=ami.port,
        user=ami.user,
        secret=settings.ami_secret(),
        tls=ami.tls,
        ping_interval_seconds=ami.ping_interval_seconds,
        pong_timeout_seconds=ami.pong_timeout_seconds,
    )
    pipeline = build_pipeline(settings, store)
    seen_until = store.listener_seen_until(ami.pbx)
    return Listener(
        listener_settings,
        pipeline,
        StreamSink(stream),
        recorder,
        seen_until_before_start=seen_until,
    )


class BackgroundListener:
    """A live listener on its own thread and event loop (for the demo and lab tests).

    `start` returns once the first AMI login succeeded, or raises its one-line error.
    """

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ringtest-listener", daemon=True)

    def start(self, timeout_seconds: float = 10.0) -> BackgroundListener:
        self._thread.start()
        deadline = time.monotonic() + timeout_seconds
        while self.listener.connects == 0 and self._error is None:
            if time.monotonic() > deadline:
                raise PbxUnreachable(
                    f"AMI at {self.listener.address} did not accept the listener within "
                    f"{timeout_seconds:g} s: check the PBX is up"
                )
            time.sleep(0.01)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        """Stop listening; calls still open are stored as incomplete."""
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.listener.run(self._stop))
        except BaseException as error:
            self._error = error
        finally:
            self._loop.close()
