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
from dataclasses import dataclass
from pathlib import Path

from ami_listener.callbacks import CallbackLedger
from ami_listener.lines import LineDirectory
from ami_listener.listener import BackpressureSink, Listener, ListenerSettings
from ami_listener.pipeline import Batch, CallPipeline, replay_file
from ami_listener.recording import Recorder
from ami_listener.tracker import CallTracker
from ringtest.config import Settings
from ringtest.records import CallbackStatus
from ringtest.standards import Standards
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
    standards = Standards.from_settings(settings)
    tracker = CallTracker(settings.ami.pbx, LineDirectory.from_settings(settings.lines), standards)
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


def replay(settings: Settings, recording: Path, store: Store) -> ReplaySummary:
    """Feed a recorded AMI stream through the tracker into the store."""
    pipeline = build_pipeline(settings, store)
    sink = StoreSink(store)
    replay_file(recording, pipeline, sink)
    return ReplaySummary(
        messages=pipeline.counters.messages,
        calls=sink.calls_written,
        obligations=sink.obligations_written,
        anomalies=sum(pipeline.tracker.anomalies.values()),
    )


def listen(settings: Settings, store: Store, record_to: Path | None = None) -> None:
    """Run the live listener until SIGINT or SIGTERM; store every call as it ends."""
    ami = settings.ami
    listener_settings = ListenerSettings(
        host=ami.host,
        port=ami.port,
        user=ami.user,
        secret=settings.ami_secret(),
        ping_interval_seconds=ami.ping_interval_seconds,
        pong_timeout_seconds=ami.pong_timeout_seconds,
    )
    sink = BackpressureSink(StoreSink(store))
    recorder = Recorder(record_to) if record_to is not None else None
    listener = Listener(listener_settings, build_pipeline(settings, store), sink, recorder)
    try:
        asyncio.run(_run_until_signalled(listener))
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
