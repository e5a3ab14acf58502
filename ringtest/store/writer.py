"""The store as one subscriber of the record stream: a bounded queue and a writer thread.

`StoreWriter.handle` is subscribed to a `RecordStream`
(``stream.subscribe("store", writer.handle)``), and `close` (or the end of its
``with`` block) writes what is still queued. It keeps what the store holds
(`CallEnded`, `ObligationChanged`, `RingTestFinished`, `GapObserved`,
`ListenerHeartbeat`, `InboundCallUnmatched`; ringing and answers are live state
only) and queues it; one writer thread drains the queue, and whatever queued up
meanwhile goes to the store in one write (`write_changes`): the calls in one
batched upsert, then the obligations, ring tests, gaps, unmatched inbound calls
and the latest heartbeat of each PBX. Upserts make a repeated write
harmless.

Overflow policy: `handle` never blocks its publisher. Asterisk does not wait for
a slow reader (it logs the listener off), so when `max_queued_changes` are
already waiting, further changes are not queued: they are counted in
`deferred_changes` and logged. The listener's calls stay in its journal and are
replayed at its next start (`ami_listener.journal`); a deferred ring test, which
no journal holds, is counted in `lost_changes` as well.

A failing write (database down, disk full) is retried with backoff, holding its
changes (the store drops its pooled connections after a failed write, so a
database whose permissions were fixed is reopened). `notify_stored` handlers
learn each successful write, which is how the listener's checkpoint advances.
`close` tries for at most `close_within_seconds`; changes that still cannot be
written are logged with their true counts, and a write the driver never returns
from is abandoned with the thread (a daemon thread), so a shutdown is never held.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from ringtest.core.stream import (
    CallEnded,
    Change,
    GapObserved,
    InboundCallUnmatched,
    ListenerHeartbeat,
    ObligationChanged,
    RingTestFinished,
)
from ringtest.store import Store

log = logging.getLogger(__name__)

STORED_CHANGES = (
    CallEnded,
    ObligationChanged,
    RingTestFinished,
    GapObserved,
    ListenerHeartbeat,
    InboundCallUnmatched,
)
"""The change types the store keeps; the others are live state."""

JOURNALLED_CHANGES = (CallEnded, ObligationChanged)
"""The changes the listener can rebuild from its journal (ring tests it cannot)."""

MAX_RETRY_SECONDS = 30.0
"""The longest wait between two attempts at a failing write."""

DEFERRAL_LOG_SECONDS = 60.0
"""Monotonic seconds between two warnings about changes not queued."""

StoredHandler = Callable[[Sequence[Change]], None]


def write_changes(store: Store, changes: Sequence[Change]) -> Counter[str]:
    """One write: the calls in one upsert, then obligations, ring tests, gaps, unmatched
    inbound calls and the latest heartbeat of each PBX, in order.

    Returns how many of each were written: ``calls``, ``obligations``, ``ring tests``.
    """
    calls = [change.record for change in changes if isinstance(change, CallEnded)]
    obligations = [c.obligation for c in changes if isinstance(c, ObligationChanged)]
    ring_tests = [c.result for c in changes if isinstance(c, RingTestFinished)]
    gaps = [c.gap for c in changes if isinstance(c, GapObserved)]
    unmatched = [c.call for c in changes if isinstance(c, InboundCallUnmatched)]
    seen_until = {c.pbx: c.seen_until for c in changes if isinstance(c, ListenerHeartbeat)}
    if calls:
        store.save_calls(calls)
    if obligations:
        store.save_obligations(obligations)
    for result in ring_tests:
        store.save_ring_test(result)
    if gaps:
        store.save_gaps(gaps)
    if unmatched:
        store.save_unmatched_calls(unmatched)
    for pbx, instant in seen_until.items():
        store.save_listener_seen(pbx, instant)
    return Counter(calls=len(calls), obligations=len(obligations), ring_tests=len(ring_tests))


def describe(changes: Sequence[Change]) -> str:
    """``3 calls, 1 obligation change and 0 ring tests``: true counts for a log line."""
    kinds = Counter(type(change) for change in changes)
    return (
        f"{kinds[CallEnded]} calls, {kinds[ObligationChanged]} obligation changes and "
        f"{kinds[RingTestFinished]} ring tests"
    )


class StoreWriter:
    """Writes the stream's finished calls, obligations and ring tests to `store`.

    max_queued_changes: changes waiting at most; past it `handle` defers (never blocks).
    retry_seconds: the first wait after a failed write (doubling, up to 30 s).
    close_within_seconds: how long `close` may take, in all.
    write_errors: failed write attempts so far (each logged); it only grows.
    deferred_changes: changes not queued because the queue was full; lost_changes: those
        of them (and of the changes unstored at close) that no journal holds.
    calls_written, obligations_written, ring_tests_written: stored so far.
    """

    def __init__(
        self,
        store: Store,
        max_queued_changes: int = 20_000,
        retry_seconds: float = 1.0,
        close_within_seconds: float = 2.0,
    ) -> None:
        self.store = store
        self.max_queued_changes = max_queued_changes
        self.retry_seconds = retry_seconds
        self.close_within_seconds = close_within_seconds
        self.write_errors = 0
        self.deferred_changes = 0
        self.lost_changes = 0
        self.calls_written = 0
        self.obligations_written = 0
        self.ring_tests_written = 0
        self._queued: list[Change] = []
        self._writing: list[Change] = []
        self._stored_handlers: list[StoredHandler] = []
        self._changed = threading.Condition()
        self._closing = False
        self._close_deadline = 0.0
        self._next_deferral_log_at = 0.0
        self._thread = threading.Thread(
            target=self._drain, name="ringtest-store-writer", daemon=True
        )
        self._thread.start()

    def notify_stored(self, handler: StoredHandler) -> None:
        """Call `handler` with the changes of each successful write (on the writer's thread)."""
        self._stored_handlers.append(handler)

    @property
    def waiting(self) -> int:
        """Changes queued or being written, not yet stored."""
        with self._changed:
            return len(self._queued) + len(self._writing)

    def handle(self, changes: Sequence[Change]) -> None:
        """Queue the changes the store keeps (a stream handler); never blocks: when the
        queue is full they are deferred, counted and logged."""
        kept = [change for change in changes if isinstance(change, STORED_CHANGES)]
        if not kept:
            return
        with self._changed:
            if len(self._queued) + len(kept) > self.max_queued_changes:
                self._defer(kept)
                return
            self._queued += kept
            self._changed.notify_all()

    def wait_until_stored(self, timeout_seconds: float) -> bool:
        """Block until nothing waits to be written (True) or `timeout_seconds` pass (False)."""
        deadline = time.monotonic() + timeout_seconds
        with self._changed:
            while self._queued or self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def close(self) -> None:
        """Write what is queued, trying for at most `close_within_seconds`, then stop."""
        deadline = time.monotonic() + self.close_within_seconds
        with self._changed:
            self._close_deadline = deadline
            self._closing = True
            self._changed.notify_all()
        self._thread.join(max(deadline - time.monotonic(), 0.0))
        with self._changed:
            unstored = self._queued + self._writing
            self._queued = []
        if unstored:
            self.lost_changes += sum(not isinstance(c, JOURNALLED_CHANGES) for c in unstored)
            log.error(
                "store writer stopping with %s unstored after %g s (the listener's calls "
                "are replayed from its journal at the next start)",
                describe(unstored),
                self.close_within_seconds,
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _defer(self, changes: list[Change]) -> None:
        """The queue is full: count `changes` as deferred and say so now and then."""
        self.deferred_changes += len(changes)
        self.lost_changes += sum(not isinstance(c, JOURNALLED_CHANGES) for c in changes)
        if time.monotonic() < self._next_deferral_log_at:
            return
        self._next_deferral_log_at = time.monotonic() + DEFERRAL_LOG_SECONDS
        log.warning(
            "store is falling behind: %d changes wait to be written, %d more were not "
            "queued so far (the listener's calls among them stay in its journal for the next "
            "start; %d ring test results are lost)",
            len(self._queued),
            self.deferred_changes,
            self.lost_changes,
        )

    def _drain(self) -> None:
        """Write changes as they come; whatever queued up meanwhile goes in one write."""
        while True:
            with self._changed:
                while not self._queued and not self._closing:
                    self._changed.wait()
                if not self._queued:
                    return
                self._writing, self._queued = self._queued, []
            stored = self._write_with_retry(self._writing)
            with self._changed:
                if stored:
                    self._writing = []
                self._changed.notify_all()
            if not stored:
                return

    def _write_with_retry(self, changes: list[Change]) -> bool:
        """Write `changes`, retrying with backoff; False when `close`'s deadline passed first."""
        delay = self.retry_seconds
        while True:
            try:
                written = write_changes(self.store, changes)
            except Exception as error:
                self.write_errors += 1
                log.error(
                    "could not store %s (%s); %d changes wait in all; retrying in %g s",
                    describe(changes),
                    error,
                    self.waiting,
                    delay,
                )
                if not self._wait_before_retry(delay):
                    return False
                delay = min(delay * 2, MAX_RETRY_SECONDS)
                continue
            self.calls_written += written["calls"]
            self.obligations_written += written["obligations"]
            self.ring_tests_written += written["ring_tests"]
            for handler in self._stored_handlers:
                handler(changes)
            return True

    def _wait_before_retry(self, delay_seconds: float) -> bool:
        """Wait `delay_seconds`, less once closing began and never past its deadline;
        False when the deadline has passed."""
        with self._changed:
            if not self._closing:
                self._changed.wait_for(lambda: self._closing, delay_seconds)
            if not self._closing:
                return True
            left = self._close_deadline - time.monotonic()
            if left <= 0:
                return False
        time.sleep(min(delay_seconds, left))
        return time.monotonic() < self._close_deadline
