"""Wiring for `ringtest listen` and `ringtest replay`: settings in, a running pipeline out.

This is where the pure AMI stages meet the outside world: the config says
which lines are monitored and what the standards are, the store keeps the
calls and the callback obligations (and restores the ones still owed after a
restart), and the live socket or a recording feeds the same `CallPipeline`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ami_listener.callbacks import CallbackLedger
from ami_listener.listener import BackpressureSink, Listener, ListenerSettings
from ami_listener.pipeline import Batch, CallPipeline, Sink, replay_file
from ami_listener.recording import Recorder
from ami_listener.tracker import CallTracker
from ringtest.config import Settings
from ringtest.config.adapters import line_directory_of, standards_of
from ringtest.errors import PbxUnreachable
from ringtest.records import CallbackStatus
from ringtest.store import Store

log = logging.getLogger(__name__)


class StoreSink:
    """Writes each batch to the store: calls upserted, obligations upserted."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls_written = 0
        self.obligations_written = 0

    def write(self, batch: Batch) -> None:
        if batch.calls:
            self.calls_written += self.store.save_calls(batch.calls)
        for obligation in batch.obligations:
            self.store.save_obligation(obligation)
            self.obligations_written += 1


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
    """Feed a recorded AMI stream through the tracker into the store.

    on_bytes: told the size of each chunk of AMI bytes replayed (for progress)."""
    pipeline = build_pipeline(settings, store)
    sink = StoreSink(store)
    replay_file(recording, pipeline, sink, on_bytes=on_bytes)
    return ReplaySummary(
        messages=pipeline.counters.messages,
        calls=sink.calls_written,
        obligations=sink.obligations_written,
        anomalies=sum(pipeline.tracker.anomalies.values()),
    )


def make_listener(
    settings: Settings, store: Store, sink: Sink, recorder: Recorder | None = None
) -> Listener:
    """A listener for the configured AMI, feeding a pipeline restored from `store` into `sink`."""
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
    return Listener(listener_settings, build_pipeline(settings, store), sink, recorder)


def listen(settings: Settings, store: Store, record_to: Path | None = None) -> None:
    """Run the live listener until SIGINT or SIGTERM; store every call as it ends."""
    sink = BackpressureSink(StoreSink(store))
    recorder = Recorder(record_to) if record_to is not None else None
    try:
        asyncio.run(_run_until_signalled(make_listener(settings, store, sink, recorder)))
    finally:
        sink.close()
        if recorder is not None:
            recorder.close()


async def _run_until_signalled(listener: Listener) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await listener.run(stop)
    log.info("listener stopped")


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
