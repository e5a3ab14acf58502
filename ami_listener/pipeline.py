"""The path every AMI byte takes, live or replayed: bytes -> frames -> messages -> changes.

`CallPipeline` strings the pure stages together (frame buffer, parser, call
tracker, callback ledger) and returns what each step produced as a `Batch`: the
`ringtest.core.stream` changes in the order they happened (calls ringing, answered
and ended, callback obligations opened or closed) and, apart, the calls the PBX
dialled out, which only the ledger reads. Whoever feeds it hands the batch to a
`Sink`; `StreamSink` publishes it on a `RecordStream` for every subscriber (the
store is one). The live listener feeds socket messages; `replay_file` feeds a
recording. Neither stage knows which. Frames it skips as garbage (oversize, or
no AMI message at all) are counted in `CallPipeline.skipped` and logged at most
once a minute. A call from the public that matched no line is logged (at INFO,
with the council number it dialled, never the caller's) once per number per hour
of the calls' own time.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from ami_listener.frames import NOT_A_MESSAGE, FrameBuffer, SkippedFrames
from ami_listener.lines import LineDirectory
from ami_listener.message import AmiMessage, parse_frame
from ami_listener.obligations import CallbackLedger
from ami_listener.recording import read_chunks
from ami_listener.tracker import CallTracker, TrackerOutput
from ringtest.core.records import CallbackObligation, CallRecord, DialledCall
from ringtest.core.standards import Standards
from ringtest.core.stream import (
    CallEnded,
    Change,
    InboundCallUnmatched,
    ObligationChanged,
    RecordStream,
)

log = logging.getLogger(__name__)

UNMATCHED_LOG_INTERVAL = timedelta(hours=1)
"""How often one dialled number that matched no line is logged again."""
UNMATCHED_NUMBERS_REMEMBERED = 10_000
"""How many such numbers' last log times are kept (the oldest are forgotten first)."""


@dataclass
class Batch:
    """What one step of the pipeline produced: stream changes in order, and dialled calls."""

    changes: list[Change] = field(default_factory=list)
    dialled: list[DialledCall] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.dialled)

    def extend(self, other: Batch) -> None:
        self.changes += other.changes
        self.dialled += other.dialled

    @property
    def calls(self) -> list[CallRecord]:
        """The records of the calls that ended, in order."""
        return [change.record for change in self.changes if isinstance(change, CallEnded)]

    @property
    def obligations(self) -> list[CallbackObligation]:
        """The callback obligations as they now stand, in order of change."""
        return [
            change.obligation for change in self.changes if isinstance(change, ObligationChanged)
        ]


class Sink(Protocol):
    """Where a pipeline's batches go (the record stream, a test's list...)."""

    def write(self, batch: Batch) -> None: ...


class StreamSink:
    """Publishes each batch's changes on a `RecordStream` (dialled calls stay behind)."""

    def __init__(self, stream: RecordStream) -> None:
        self.stream = stream

    def write(self, batch: Batch) -> None:
        self.stream.publish(batch.changes)


@dataclass
class PipelineCounters:
    """Running totals for logs, status and benchmarks.

    malformed_lines counts the non-header lines of the messages that were parsed
    (events the tracker ignores are never split into lines). Frames that were no
    message at all are counted apart, in `CallPipeline.skipped`.
    """

    bytes: int = 0
    messages: int = 0
    malformed_lines: int = 0


class CallPipeline:
    """Frame buffer + parser + tracker + callback ledger for one PBX link.

    skipped: the garbage frames of every stream fed as bytes, by kind (it outlives
    the frame buffer, which a lost link replaces).
    """

    def __init__(self, tracker: CallTracker, ledger: CallbackLedger) -> None:
        self.tracker = tracker
        self.ledger = ledger
        self.skipped = SkippedFrames("AMI stream")
        self.frames = FrameBuffer(skipped=self.skipped)
        self.counters = PipelineCounters()
        self._unmatched_logged_at: OrderedDict[str, datetime] = OrderedDict()

    def reconfigure(self, lines: LineDirectory, standards: Standards) -> None:
        """Match calls from now on against `lines` and measure them by `standards` (a
        settings reload; call it between two events). Calls in flight keep their line."""
        self.tracker.lines = lines
        self.tracker.standards = standards
        self.ledger.standards = standards

    def feed_bytes(self, chunk: bytes, received_at: datetime) -> Batch:
        """Feed one chunk as read from the socket (any size, any split)."""
        self.counters.bytes += len(chunk)
        batch = Batch()
        track = self._track
        for frame in self.frames.feed(chunk):
            outputs = track(parse_frame(frame), received_at)
            if outputs:
                batch.extend(self._settle(outputs))
        return batch

    def feed_message(self, message: AmiMessage, received_at: datetime) -> Batch:
        """Feed one decoded message."""
        return self._settle(self._track(message, received_at))

    def _track(self, message: AmiMessage, received_at: datetime) -> list[TrackerOutput]:
        self.counters.messages += 1
        outputs = self.tracker.feed(message, received_at)
        if message.parsed:
            self.counters.malformed_lines += len(message.malformed_lines)
            if message.event is None and message.response is None:
                self.skipped.skipped(NOT_A_MESSAGE)
        return outputs

    def tick(self, now: datetime) -> Batch:
        """Time passed: obligations past their deadline become overdue."""
        return Batch([ObligationChanged(obligation) for obligation in self.ledger.on_time(now)])

    def link_lost(self, note: str) -> Batch:
        """The stream broke: every call in progress is finished as incomplete."""
        self.frames = FrameBuffer(skipped=self.skipped)
        return self._settle(self.tracker.abandon_all(note))

    def _settle(self, outputs: Iterable[TrackerOutput]) -> Batch:
        """Tracker outputs -> stream changes; finished calls also go through the ledger."""
        batch = Batch()
        changes = batch.changes
        for output in outputs:
            if isinstance(output, CallRecord):
                changes.append(CallEnded(output))
            elif isinstance(output, DialledCall):
                batch.dialled.append(output)
            else:
                if isinstance(output, InboundCallUnmatched):
                    self._log_unmatched(output)
                changes.append(output)
                continue
            changes += map(ObligationChanged, self.ledger.on_call(output))
        return batch

    def _log_unmatched(self, change: InboundCallUnmatched) -> None:
        """Log the number a call from the public dialled, at most once an hour per number."""
        call = change.call
        logged_at = self._unmatched_logged_at.get(call.dialled)
        if logged_at is not None and call.started_at - logged_at < UNMATCHED_LOG_INTERVAL:
            return
        self._unmatched_logged_at[call.dialled] = call.started_at
        self._unmatched_logged_at.move_to_end(call.dialled)
        if len(self._unmatched_logged_at) > UNMATCHED_NUMBERS_REMEMBERED:
            self._unmatched_logged_at.popitem(last=False)
        log.info(
            "a call from the public on %s dialled %r, which matches no [[lines]] entry: "
            "add a line for it if it is a council number (`ringtest lines` lists them)",
            call.pbx,
            call.dialled,
        )


def replay_file(
    path: Path,
    pipeline: CallPipeline,
    sink: Sink,
    batch_changes: int = 15_000,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    """Feed a recorded stream through `pipeline` into `sink`, then close what is left open.

    Events without a ``Timestamp:`` header in a raw stream are timed at the
    moment of replay; calls still open when the recording ends are stored as
    ``incomplete``. batch_changes: changes gathered before each write (about a
    third as many calls). on_bytes: told the size of each chunk of AMI bytes fed
    (progress).
    """
    pending = Batch()
    for received_at, chunk in read_chunks(path):
        pending.extend(pipeline.feed_bytes(chunk, received_at or datetime.now(UTC)))
        if on_bytes is not None:
            on_bytes(len(chunk))
        if len(pending.changes) >= batch_changes:
            sink.write(pending)
            pending = Batch()
    pending.extend(pipeline.link_lost(f"recording {path.name} ended while the call was open"))
    if pending:
        sink.write(pending)
