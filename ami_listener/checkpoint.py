"""Which part of the journal is stored: the checkpoint, from the calls not yet stored.

The journal (`ami_listener.journal`) may be replayed from any position at which
no call that is not yet stored had begun. `UnstoredCalls` keeps, for each call
in progress, the journal position of the chunk where its first event's frame
began, and for each finished call (and callback obligation change) handed to
the store, that same position until the store confirms the write
(`StoreWriter.notify_stored`). The checkpoint is the least of those positions,
or the position of the next unread frame when there are none.

A call's first event is the one after which the tracker holds one more call than
before, counting the calls it finished at that event (an eviction can begin one
call and finish another at once); its key is the event's ``Linkedid``. Calls
adopted from ``CoreShowChannels`` begin at their link's first position.

The listener's event loop reports what it feeds; the store's writer thread
reports what it stored; a lock keeps the two apart.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ami_listener.message import AmiMessage
from ami_listener.pipeline import Batch
from ringtest.core.stream import CallEnded, Change, ObligationChanged, change_key

STORED_CHANGES = (CallEnded, ObligationChanged)
"""The listener's changes that the store keeps."""


class UnstoredCalls:
    """Journal positions of the calls in progress and of those not yet confirmed stored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}
        """Linkedid of each call in progress -> position of its first event."""
        self._unconfirmed: dict[str, list[int]] = {}
        """change_key -> [least position, changes handed to the store and not confirmed]."""

    def call_began(self, call_id: str, position: int) -> None:
        """A call (or an adopted one) began at journal `position`."""
        with self._lock:
            self._open.setdefault(call_id, position)

    def after_event(
        self, message: AmiMessage, batch: Batch, calls_before: int, calls_after: int, position: int
    ) -> None:
        """`message`, whose frame began at `position`, gave `batch`; the tracker held
        `calls_before` calls in progress before it and `calls_after` after it."""
        finished = len(batch.calls) + len(batch.dialled)
        if calls_after - calls_before + finished > 0:
            self.call_began(message.get("Linkedid") or message.get("Uniqueid", ""), position)
        self.handed_to_store(batch, position)

    def handed_to_store(self, batch: Batch, position: int) -> None:
        """`batch` is about to be published: its calls are no longer in progress, and its
        stored changes wait for the store from the first position of those calls (or
        `position` when it finished none)."""
        finished_ids = [call.call_id for call in batch.calls]
        finished_ids += [call.call_id for call in batch.dialled]
        with self._lock:
            began = [self._open.pop(call_id, position) for call_id in finished_ids]
            since = min(began, default=position)
            for change in batch.changes:
                if isinstance(change, STORED_CHANGES):
                    waiting = self._unconfirmed.setdefault(change_key(change), [since, 0])
                    waiting[0] = min(waiting[0], since)
                    waiting[1] += 1

    def stored(self, changes: Sequence[Change]) -> None:
        """The store confirmed `changes` (called from the writer's thread)."""
        with self._lock:
            for change in changes:
                key = change_key(change)
                waiting = self._unconfirmed.get(key)
                if waiting is None:
                    continue
                waiting[1] -= 1
                if waiting[1] <= 0:
                    del self._unconfirmed[key]

    def keep_only(self, open_call_ids: set[str]) -> None:
        """Forget calls in progress that the tracker no longer holds (a safety net: a call
        keyed otherwise than its first event would hold the checkpoint back for ever)."""
        with self._lock:
            for call_id in self._open.keys() - open_call_ids:
                del self._open[call_id]

    @property
    def waiting(self) -> int:
        """Calls and obligation changes handed to the store and not yet confirmed."""
        with self._lock:
            return sum(count for _, count in self._unconfirmed.values())

    def checkpoint(self, next_frame_position: int) -> int:
        """The journal position before which every call is stored."""
        with self._lock:
            positions = [position for position, _ in self._unconfirmed.values()]
            positions.append(next(iter(self._open.values()), next_frame_position))
        return min(min(positions), next_frame_position)
