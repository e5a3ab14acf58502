"""The record stream's metrics subscriber: counters and the ring-time histogram, updated
as changes arrive, and the calls ringing now, read at scrape time.

`CallMetrics.handle` is a `RecordStream` handler. What each change does:

* `CallEnded`: a live call as `observe_call` observes it (calls from our own
  ring-test caller IDs are left to their ring test, as the store's figures do)
  counts once in ``ringtest_calls_total`` by outcome, once in
  ``ringtest_calls_answered_within_standard_total`` (0 or 1, so that a line's
  series exists from its first call) and, when it rang and was seen whole (not
  ``incomplete``), in the ``ringtest_call_ring_seconds`` histogram by source,
  department and outcome (no line: each label set is a dozen series); it stops ringing;
* `RingTestFinished`: counts in ``ringtest_ring_tests_total`` by department and
  the test's own outcome (``not_placed`` too), and a placed test, as `observe_ring_test`
  observes it, in the call counters and histogram with ``source="test"``;
* `CallRinging` / `CallAnswered`: the call is ringing / no longer ringing;
* `ObligationChanged`: ``ringtest_callbacks_opened_total`` when it opens,
  ``ringtest_callbacks_closed_total`` by how it closed;
* `GapObserved`: ``ringtest_listener_gaps_total`` and the blind seconds.

Labels are only pbx, department, line, outcome and source (``live`` or ``test``):
never a caller number or a call id. A live call's series carry its PBX's name, so
a dashboard shows each PBX and, summed, all of them; a ring test's carry ``pbx=""``
(it reaches a line by its public number, not through a known PBX). Counters count
from this process's start (Prometheus reads a restart as a counter reset); they are
not rebuilt from the store. The calls ringing now are bounded by
`RINGING_CALLS_KEPT`: the oldest is forgotten first (the listener ends every call
it tracks, so the bound only guards against a source that never does).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram

from ami_listener.lines import MonitoredLine
from ringtest.core.observations import Observation, Source, observe_call, observe_ring_test
from ringtest.core.records import CallbackStatus, CallOutcome, RingTestOutcome
from ringtest.core.stream import (
    CallAnswered,
    CallEnded,
    CallRinging,
    Change,
    GapObserved,
    ObligationChanged,
    RingTestFinished,
)

SOURCE_LABELS = {Source.LIVE: "live", Source.RING_TEST: "test"}
"""The ``source`` label of each observation source."""

RINGING_CALLS_KEPT = 10_000
"""How many calls ringing now are remembered at most."""

CALL_LABELS = ("pbx", "source", "department", "line", "outcome")
RING_TIME_LABELS = ("pbx", "source", "department", "outcome")
RINGING_LABELS = ("pbx", "source", "department")
OBLIGATION_LABELS = ("pbx", "department", "line")
CLOSED_STATUSES = frozenset(
    {CallbackStatus.CALLED_BACK, CallbackStatus.CALLER_GOT_THROUGH, CallbackStatus.NOT_CALLED_BACK}
)


@dataclass(frozen=True, slots=True)
class RingingCall:
    """A call ringing now: what the ringing gauges group and age it by."""

    pbx: str
    source: str
    department: str
    ring_started_at: datetime


class CallMetrics:
    """The stream subscriber: registers its counters and histogram in `registry`.

    ring_time_buckets: float seconds, the histogram's upper bounds (see
    `ringtest.web.metrics.ring_time_buckets`). lines: each PBX's configured lines, whose live
    call series and their departments' ring-test series start at 0, so that
    ``increase()`` sees their first call or test (a series born at 1 shows no increase).
    """

    def __init__(
        self,
        registry: CollectorRegistry,
        ring_time_buckets: Sequence[float],
        lines: Mapping[str, Iterable[MonitoredLine]] | None = None,
    ) -> None:
        self.calls = Counter(
            "ringtest_calls",
            "Calls to monitored lines (live) and placed ring tests (test), by outcome.",
            CALL_LABELS,
            registry=registry,
        )
        self.within_standard = Counter(
            "ringtest_calls_answered_within_standard",
            "Calls a person answered within the rings standard.",
            CALL_LABELS[:-1],
            registry=registry,
        )
        self.ring_seconds = Histogram(
            "ringtest_call_ring_seconds",
            "Ringing the caller heard before an answer or hang-up; buckets on ring boundaries.",
            RING_TIME_LABELS,
            buckets=tuple(ring_time_buckets),
            unit="seconds",
            registry=registry,
        )
        self.ring_tests = Counter(
            "ringtest_ring_tests",
            "Mystery ring tests by their outcome (not_placed: the test never happened).",
            ("department", "outcome"),
            registry=registry,
        )
        self.callbacks_opened = Counter(
            "ringtest_callbacks_opened",
            "Callback obligations opened by missed calls.",
            OBLIGATION_LABELS,
            registry=registry,
        )
        self.callbacks_closed = Counter(
            "ringtest_callbacks_closed",
            "Callback obligations closed, by how (outcome: the closing status).",
            (*OBLIGATION_LABELS, "outcome"),
            registry=registry,
        )
        self.gaps = Counter(
            "ringtest_listener_gaps",
            "Intervals the listener did not see its PBX.",
            ("pbx",),
            registry=registry,
        )
        self.blind_seconds = Counter(
            "ringtest_listener_blind_seconds",
            "Seconds of those intervals.",
            ("pbx",),
            unit="seconds",
            registry=registry,
        )
        self._ringing: OrderedDict[tuple[str, str], RingingCall] = OrderedDict()
        self._lock = threading.Lock()
        for pbx, of_pbx in (lines or {}).items():
            for line in of_pbx:
                self._start_at_zero(pbx, line)

    def handle(self, changes: Sequence[Change]) -> None:
        """Count each change (the `RecordStream` handler)."""
        for change in changes:
            match change:
                case CallRinging():
                    self._ringing_began(change)
                case CallAnswered(pbx=pbx, call_id=call_id):
                    self._ringing_ended(pbx, call_id)
                case CallEnded(record=record):
                    self._ringing_ended(record.pbx, record.call_id)
                    self._observed(observe_call(record))
                case RingTestFinished(result=result):
                    self.ring_tests.labels(result.department, result.outcome.value).inc()
                    self._observed(observe_ring_test(result))
                case ObligationChanged(obligation=obligation):
                    self._obligation_changed(
                        (obligation.pbx, obligation.department, obligation.line),
                        obligation.status,
                    )
                case GapObserved(gap=gap):
                    self.gaps.labels(gap.pbx).inc()
                    blind_seconds = (gap.ended_at - gap.started_at).total_seconds()
                    self.blind_seconds.labels(gap.pbx).inc(blind_seconds)

    def _start_at_zero(self, pbx: str, line: MonitoredLine) -> None:
        """Create `line`'s live series and its department's ring-test series at 0."""
        live = SOURCE_LABELS[Source.LIVE]
        self.within_standard.labels(pbx, live, line.department, line.line)
        for outcome in CallOutcome:
            self.calls.labels(pbx, live, line.department, line.line, outcome.value)
        for tested in RingTestOutcome:
            self.ring_tests.labels(line.department, tested.value)

    def ringing_now(self) -> list[RingingCall]:
        """The calls ringing now, oldest first (a copy: the stream's thread adds to it)."""
        with self._lock:
            return list(self._ringing.values())

    def _ringing_began(self, change: CallRinging) -> None:
        source = SOURCE_LABELS[Source.RING_TEST if change.is_test_call else Source.LIVE]
        with self._lock:
            self._ringing[(change.pbx, change.call_id)] = RingingCall(
                change.pbx, source, change.department, change.ring_started_at
            )
            if len(self._ringing) > RINGING_CALLS_KEPT:
                self._ringing.popitem(last=False)

    def _ringing_ended(self, pbx: str, call_id: str) -> None:
        with self._lock:
            self._ringing.pop((pbx, call_id), None)

    def _observed(self, observation: Observation | None) -> None:
        if observation is None:
            return
        source = SOURCE_LABELS[observation.source]
        labels = (observation.pbx, source, observation.department, observation.line)
        outcome = observation.outcome.value
        self.calls.labels(*labels, outcome).inc()
        self.within_standard.labels(*labels).inc(1 if observation.within_standard else 0)
        seen_whole = observation.outcome is not CallOutcome.INCOMPLETE
        if observation.ring_seconds is not None and seen_whole:
            self.ring_seconds.labels(
                observation.pbx, source, observation.department, outcome
            ).observe(observation.ring_seconds)

    def _obligation_changed(self, labels: tuple[str, str, str], status: CallbackStatus) -> None:
        """Count an obligation opening or closing; `labels`: its pbx, department and line."""
        if status is CallbackStatus.OPEN:
            self.callbacks_opened.labels(*labels).inc()
        elif status in CLOSED_STATUSES:
            self.callbacks_closed.labels(*labels, status.value).inc()
