"""The store as one subscriber of the record stream: a bounded queue and a writer thread.

`StoreWriter.handle` is subscribed to a `RecordStream`
(``stream.subscribe("store", writer.handle)``), and `close` (or the end of its
``with`` block) writes what is still queued. It keeps what the store holds
(`CallEnded`, `ObligationChanged`, `RingTestFinished`, `GapObserved`,
`ListenerHeartbeat`; ringing and answers are live state only) and queues it; one
writer thread drains the queue, and whatever queued up meanwhile goes to the
store in one write: the calls in one batched upsert, then the obligations, ring
tests, gaps and the latest heartbeat of each PBX. Upserts make a repeated write
harmless.

Overflow policy: `handle` blocks the publisher (the AMI reader) until there is
room, so records are never dropped; the wait is logged. A failing write
(database down, disk full) is retried with backoff, holding its changes, so the
queue fills and the publisher waits; at `close` writes are retried for
`close_retry_seconds` more, then changes that still cannot be written are
logged with their count.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from ringtest.core.stream import (
    CallEnded,
    Change,
    GapObserved,
    ListenerHeartbeat,
    ObligationChanged,
    RingTestFinished,
)
from ringtest.store import Store

log = logging.getLogger(__name__)

STORED_CHANGES = (CallEnded, ObligationChanged, RingTestFinished, GapObserved, ListenerHeartbeat)
"""The change types the store keeps; the others are live state."""

MAX_RETRY_SECONDS = 30.0
"""The longest wait between two attempts at a failing write."""


class StoreWriter:
    """Writes the stream's finished calls, obligations and ring tests to `store`.

    max_batches: lists of changes queued at most before `handle` blocks.
    retry_seconds: the first wait after a failed write (doubling, up to 30 s).
    write_errors: failed write attempts so far (each logged); it only grows.
    calls_written, obligations_written, ring_tests_written: stored so far.
    """

    def __init__(
        self,
        store: Store,
        max_batches: int = 1000,
        retry_seconds: float = 1.0,
        close_retry_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.retry_seconds = retry_seconds
        self.close_retry_seconds = close_retry_seconds
        self.write_errors = 0
        self.calls_written = 0
        self.obligations_written = 0
        self.ring_tests_written = 0
        self._closing = threading.Event()
        self._queue: queue.Queue[list[Change] | None] = queue.Queue(maxsize=max_batches)
        self._thread = threading.Thread(target=self._drain, name="ringtest-store-writer")
        self._thread.start()

    def handle(self, changes: Sequence[Change]) -> None:
        """Queue the changes the store keeps (a stream handler); block while the queue is full."""
        kept = [change for change in changes if isinstance(change, STORED_CHANGES)]
        if not kept:
            return
        try:
            self._queue.put_nowait(kept)
        except queue.Full:
            log.warning("store is falling behind: the record stream waits until it catches up")
            self._queue.put(kept)

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        self._closing.set()
        self._queue.put(None)
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _drain(self) -> None:
        """Write changes as they come; whatever queued up meanwhile goes in one write."""
        stopping = False
        while not stopping:
            changes = self._queue.get()
            if changes is None:
                return
            while not self._queue.empty():
                queued = self._queue.get_nowait()
                if queued is None:
                    stopping = True
                    break
                changes += queued
            self._write_with_retry(changes)

    def _write_with_retry(self, changes: list[Change]) -> None:
        delay = self.retry_seconds
        gave_up_at: float | None = None
        while True:
            try:
                self._write(changes)
                return
            except Exception as error:
                self.write_errors += 1
                if self._closing.is_set():
                    gave_up_at = gave_up_at or time.monotonic() + self.close_retry_seconds
                    if time.monotonic() >= gave_up_at:
                        log.error("shutting down with %d changes unstored: %s", len(changes), error)
                        return
                log.error("could not store %d changes (%s); retrying", len(changes), error)
                if self._closing.is_set():
                    time.sleep(delay)
                else:
                    self._closing.wait(delay)
                delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _write(self, changes: list[Change]) -> None:
        """One write: the calls in one upsert, then obligations, ring tests, gaps and
        heartbeats in order."""
        calls = [change.record for change in changes if isinstance(change, CallEnded)]
        obligations = [c.obligation for c in changes if isinstance(c, ObligationChanged)]
        ring_tests = [c.result for c in changes if isinstance(c, RingTestFinished)]
        gaps = [c.gap for c in changes if isinstance(c, GapObserved)]
        seen_until = {c.pbx: c.seen_until for c in changes if isinstance(c, ListenerHeartbeat)}
        if calls:
            self.store.save_calls(calls)
        for obligation in obligations:
            self.store.save_obligation(obligation)
        for result in ring_tests:
            self.store.save_ring_test(result)
        if gaps:
            self.store.save_gaps(gaps)
        for pbx, instant in seen_until.items():
            self.store.save_listener_seen(pbx, instant)
        self.calls_written += len(calls)
        self.obligations_written += len(obligations)
        self.ring_tests_written += len(ring_tests)
