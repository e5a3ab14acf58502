"""The path every AMI byte takes, live or replayed: bytes -> frames -> messages -> calls.

`CallPipeline` strings the pure stages together (frame buffer, parser, call
tracker, callback ledger) and hands what comes out to a `Sink`. The live
listener feeds it socket chunks; `replay_file` feeds it a recording. Neither
stage knows which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from ami_listener.callbacks import CallbackLedger
from ami_listener.frames import FrameBuffer
from ami_listener.message import AmiMessage, parse_frame
from ami_listener.recording import read_chunks
from ami_listener.tracker import CallTracker, TrackerOutput
from ringtest.records import CallbackObligation, CallRecord, DialledCall


@dataclass
class Batch:
    """What one step of the pipeline produced, for the sink."""

    calls: list[CallRecord] = field(default_factory=list)
    dialled: list[DialledCall] = field(default_factory=list)
    obligations: list[CallbackObligation] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.calls or self.dialled or self.obligations)

    def extend(self, other: Batch) -> None:
        self.calls += other.calls
        self.dialled += other.dialled
        self.obligations += other.obligations


class Sink(Protocol):
    """Where finished calls and changed obligations go (the store, a test list...)."""

    def write(self, batch: Batch) -> None: ...


@dataclass
class PipelineCounters:
    """Running totals for logs, status and benchmarks.

    malformed_lines counts the non-header lines of the messages that were parsed
    (events the tracker ignores are never split into lines).
    """

    bytes: int = 0
    messages: int = 0
    malformed_lines: int = 0


class CallPipeline:
    """Frame buffer + parser + tracker + callback ledger for one PBX link."""

    def __init__(self, tracker: CallTracker, ledger: CallbackLedger) -> None:
        self.tracker = tracker
        self.ledger = ledger
        self.frames = FrameBuffer()
        self.counters = PipelineCounters()

    def feed_bytes(self, chunk: bytes, received_at: datetime) -> Batch:
        """Feed one chunk as read from the socket (any size, any split)."""
        self.counters.bytes += len(chunk)
        batch = Batch()
        track = self._track
        for frame in self.frames.feed(chunk):
            finished = track(parse_frame(frame), received_at)
            if finished:
                batch.extend(self._settle(finished))
        return batch

    def feed_message(self, message: AmiMessage, received_at: datetime) -> Batch:
        """Feed one decoded message."""
        return self._settle(self._track(message, received_at))

    def _track(self, message: AmiMessage, received_at: datetime) -> list[TrackerOutput]:
        self.counters.messages += 1
        finished = self.tracker.feed(message, received_at)
        if message.parsed:
            self.counters.malformed_lines += len(message.malformed_lines)
        return finished

    def tick(self, now: datetime) -> Batch:
        """Time passed: obligations past their deadline become overdue."""
        return Batch(obligations=self.ledger.on_time(now))

    def link_lost(self, note: str) -> Batch:
        """The stream broke: every call in progress is finished as incomplete."""
        self.frames = FrameBuffer()
        return self._settle(self.tracker.abandon_all(note))

    def _settle(self, finished: Iterable[CallRecord | DialledCall]) -> Batch:
        batch = Batch()
        for record in finished:
            if isinstance(record, DialledCall):
                batch.dialled.append(record)
            else:
                batch.calls.append(record)
            batch.obligations += self.ledger.on_call(record)
        return batch


def replay_file(
    path: Path,
    pipeline: CallPipeline,
    sink: Sink,
    batch_calls: int = 5000,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Feed a recorded stream through `pipeline` into `sink`, then close what is left open.

    Events without a ``Timestamp:`` header in a raw stream are timed at the
    moment of replay; calls still open when the recording ends are stored as
    ``incomplete``. on_bytes: told the size of each chunk of AMI bytes fed (progress).
    """
    pending = Batch()
    for received_at, chunk in read_chunks(path):
        pending.extend(pipeline.feed_bytes(chunk, received_at or datetime.now(UTC)))
        if on_bytes is not None:
            on_bytes(len(chunk))
        if len(pending.calls) >= batch_calls:
            sink.write(pending)
            pending = Batch()
    pending.extend(pipeline.link_lost(f"recording {path.name} ended while the call was open"))
    if pending:
        sink.write(pending)
