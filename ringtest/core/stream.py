"""The record stream: every source publishes here, every sink subscribes.

Sources (the AMI listener, the ring-test runner, a replay) publish lists of
`Change`s in the order things happened; sinks (the store, the live view,
metrics) subscribe with a handler that takes such a list. This is locust's
``request`` event for calls: a source never knows who listens, and a sink never
knows who measured.

What travels:

* `CallRinging`: a monitored line began ringing for a caller (live calls only);
* `CallAnswered`: a person, voicemail or an IVR picked up that call;
* `CallEnded`: the call's final `CallRecord` (an ``incomplete`` one too: the
  listener lost sight of it);
* `ObligationChanged`: a callback obligation opened, went overdue or closed;
* `RingTestFinished`: a mystery ring test's `RingTestResult`;
* `GapObserved`: an interval in which the listener did not see its PBX (`CoverageGap`),
  published once it has resynchronised;
* `ListenerHeartbeat`: the latest instant a listener is known to have seen its PBX,
  published every few seconds, so that the next start knows where its gap began;
* `InboundCallUnmatched`: a call from the public dialled a number no line matches
  (`UnmatchedInboundCall`), so that a missing `[[lines]]` entry is found.

Isolation. A handler that raises never stops the other handlers or the source.
The stream then hands that handler the changes of the failed list one at a
time, so that the ones it can take still reach it, and logs each change it
still refuses once per (sink, key): a call id, an obligation's call id, or a
ring test id. `sink_errors` counts refusals per sink; it only grows.

`publish` holds a lock, so every sink sees one total order even when several
threads publish (the listener's loop and SIP threads in one process). Handlers
must therefore be quick: a slow sink (a database) puts the changes on its own
queue and writes them from its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallRecord,
    CoverageGap,
    RingTestResult,
    UnmatchedInboundCall,
)

log = logging.getLogger(__name__)

LOGGED_KEYS_KEPT = 10_000
"""How many (sink, key) pairs are remembered as already logged, so logging stays bounded."""


@dataclass(frozen=True, slots=True)
class CallRinging:
    """A monitored line began ringing. ring_started_at: UTC, the PBX's own timestamp."""

    call_id: str
    pbx: str
    line: str
    department: str
    caller: str
    is_test_call: bool
    ring_started_at: datetime


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """Someone picked up a call to a monitored line.

    answered_at: UTC. ring_seconds: float, ringing heard before this answer (None
    when the PBX answered before any ringing, e.g. an IVR). rings: whole rings.
    """

    call_id: str
    pbx: str
    line: str
    department: str
    answered_by: AnsweredBy
    answered_at: datetime
    ring_seconds: float | None
    rings: int | None


@dataclass(frozen=True, slots=True)
class CallEnded:
    """A call to a monitored line is over: its final record."""

    record: CallRecord


@dataclass(frozen=True, slots=True)
class ObligationChanged:
    """A callback obligation as it now stands (opened, overdue, closed)."""

    obligation: CallbackObligation


@dataclass(frozen=True, slots=True)
class RingTestFinished:
    """A mystery ring test ended (or was never placed)."""

    result: RingTestResult


@dataclass(frozen=True, slots=True)
class GapObserved:
    """The listener was blind to its PBX for `gap` (stored, and read back as coverage)."""

    gap: CoverageGap


@dataclass(frozen=True, slots=True)
class ListenerHeartbeat:
    """The listener on `pbx` is known to have seen it up to `seen_until` (UTC): its last
    event, or its last resync when no event came since."""

    pbx: str
    seen_until: datetime


@dataclass(frozen=True, slots=True)
class InboundCallUnmatched:
    """A call from the public ended without matching any monitored line."""

    call: UnmatchedInboundCall


Change = (
    CallRinging
    | CallAnswered
    | CallEnded
    | ObligationChanged
    | RingTestFinished
    | GapObserved
    | ListenerHeartbeat
    | InboundCallUnmatched
)
Handler = Callable[[Sequence[Change]], None]


def change_key(change: Change) -> str:
    """The id a change is about, for logs: a call id, a ring test id, a gap or a listener."""
    match change:
        case CallEnded(record=record):
            return f"call {record.pbx}/{record.call_id}"
        case ObligationChanged(obligation=obligation):
            return f"obligation {obligation.pbx}/{obligation.call_id}"
        case RingTestFinished(result=result):
            return f"ring test {result.test_id}"
        case GapObserved(gap=gap):
            return f"gap {gap.pbx}/{gap.started_at.isoformat()}"
        case ListenerHeartbeat(pbx=pbx):
            return f"listener {pbx}"
        case InboundCallUnmatched(call=call):
            return f"unmatched call {call.pbx}/{call.call_id}"
        case _:
            return f"call {change.pbx}/{change.call_id}"


class RecordStream:
    """One in-process stream of `Change`s from every source to every subscribed sink."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Handler]] = []
        self._lock = threading.Lock()
        self._logged: OrderedDict[tuple[str, str], None] = OrderedDict()
        self.sink_errors: Counter[str] = Counter()

    def subscribe(self, name: str, handler: Handler) -> None:
        """Hand every later published list of changes to `handler`; `name` is for logs."""
        with self._lock:
            self._handlers.append((name, handler))

    def publish(self, changes: Sequence[Change]) -> None:
        """Deliver `changes`, in order, to every sink; a sink that raises is isolated."""
        if not changes:
            return
        with self._lock:
            for name, handler in self._handlers:
                try:
                    handler(changes)
                except Exception:
                    self._deliver_one_by_one(name, handler, changes)

    def _deliver_one_by_one(self, name: str, handler: Handler, changes: Sequence[Change]) -> None:
        for change in changes:
            try:
                handler((change,))
            except Exception as error:
                self.sink_errors[name] += 1
                self._log_once(name, change_key(change), error)

    def _log_once(self, name: str, key: str, error: Exception) -> None:
        if (name, key) in self._logged:
            return
        self._logged[(name, key)] = None
        if len(self._logged) > LOGGED_KEYS_KEPT:
            self._logged.popitem(last=False)
        log.error("sink %s failed on %s: %s: %s", name, key, type(error).__name__, error)
