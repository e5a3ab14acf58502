"""The gauges of /metrics, read from the current state at scrape time (a custom collector).

Nothing here is updated on the hot path: each scrape asks

* `CallMetrics.ringing_now` for the calls ringing now, per PBX, source and department
  (``ringtest_calls_ringing``, and the longest current wait,
  ``ringtest_calls_ringing_longest_seconds``);
* the store for the callbacks still owed and overdue per PBX, department and line
  (`ringtest.store.owed_callbacks`, one counting query);
* the standards for whether it is opening hours now (``ringtest_opening_hours``,
  1 or 0, by the working calendar with its bank holidays, so that alert rules
  need no copy of the hours) and the configured target;
* the listener's `ListenerStats` (when a listener runs in this process) for its
  health: connected, the age of its last event, the PBX clock offset, and its
  counts, which never go backwards (anomalies, frames skipped, errors).

Times are the injected `clock`'s (aware UTC); durations are seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ami_listener.stats import ListenerStats
from ringtest.core.standards import Standards
from ringtest.store import Store
from ringtest.store.owed_callbacks import owed_callbacks
from ringtest.web.metrics_calls import OBLIGATION_LABELS, RINGING_LABELS, CallMetrics

LISTENER_COUNTS = {
    "anomalies": ("AMI events that did not fit a call.", lambda s: sum(s.anomalies.values())),
    "oversize_frames": ("AMI frames skipped for their size.", lambda s: s.oversize_frames),
    "garbage_frames": ("AMI frames skipped as no AMI message.", lambda s: s.garbage_frames),
    "handler_errors": ("AMI events whose handling raised.", lambda s: s.handler_errors),
    "write_errors": ("Failed store writes (each retried).", lambda s: s.write_errors),
    "connects": ("Successful AMI logins.", lambda s: s.connects),
    "messages": ("AMI messages fed to the call tracker.", lambda s: s.messages),
}
"""The listener's counts, each exported as ``ringtest_listener_<name>_total``."""


class LiveGauges(Collector):
    """The scrape-time collector; `watch_listener` adds the listener's health."""

    def __init__(
        self,
        calls: CallMetrics,
        standards: Standards,
        store: Store,
        target_ratio: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.calls = calls
        self.standards = standards
        self.store = store
        self.target_ratio = target_ratio
        self.clock = clock
        self.listener_stats: dict[str, tuple[ListenerStats, datetime]] = {}
        """PBX -> its listener's stats, and when they were first watched."""

    def watch_listener(self, stats: ListenerStats) -> None:
        """Export `stats` from now on, labelled with its PBX (the listener's age counts from
        now until its first event); one listener per PBX."""
        self.listener_stats[stats.pbx] = (stats, self.clock())

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        yield from self._ringing(now)
        yield from self._callbacks(now)
        opening = GaugeMetricFamily(
            "ringtest_opening_hours", "1 inside opening hours on a working day, else 0."
        )
        opening.add_metric([], 1.0 if self.standards.is_working_time(now) else 0.0)
        yield opening
        target = GaugeMetricFamily(
            "ringtest_answered_within_standard_target_ratio",
            "The share of calls a department aims to answer within the standard (0-1).",
        )
        target.add_metric([], self.target_ratio)
        yield target
        if self.listener_stats:
            yield from self._listeners(now)

    def _ringing(self, now: datetime) -> Iterator[Metric]:
        ringing = GaugeMetricFamily(
            "ringtest_calls_ringing", "Calls ringing now.", labels=RINGING_LABELS
        )
        longest = GaugeMetricFamily(
            "ringtest_calls_ringing_longest",
            "The longest current wait of a call ringing now.",
            labels=RINGING_LABELS,
            unit="seconds",
        )
        counts: Counter[tuple[str, str, str]] = Counter()
        oldest: dict[tuple[str, str, str], datetime] = {}
        for call in self.calls.ringing_now():
            key = (call.pbx, call.source, call.department)
            counts[key] += 1
            oldest[key] = min(oldest.get(key, call.ring_started_at), call.ring_started_at)
        for key in sorted(counts):
            ringing.add_metric(key, counts[key])
            longest.add_metric(key, max(0.0, (now - oldest[key]).total_seconds()))
        yield ringing
        yield longest

    def _callbacks(self, now: datetime) -> Iterator[Metric]:
        labels = OBLIGATION_LABELS
        owed = GaugeMetricFamily(
            "ringtest_callbacks_owed", "Missed callers still owed a call back.", labels=labels
        )
        overdue = GaugeMetricFamily(
            "ringtest_callbacks_overdue",
            "Missed callers still owed a call back whose deadline has passed.",
            labels=labels,
        )
        for row in owed_callbacks(self.store, now):
            key = [row.pbx, row.department, row.line]
            owed.add_metric(key, row.owed)
            overdue.add_metric(key, row.overdue)
        yield owed
        yield overdue

    def _listeners(self, now: datetime) -> Iterator[Metric]:
        """Each listener's health, one series per PBX (label ``pbx``)."""
        labels = ("pbx",)
        connected = GaugeMetricFamily(
            "ringtest_listener_connected",
            "1 while the AMI link is logged in, else 0.",
            labels=labels,
        )
        age = GaugeMetricFamily(
            "ringtest_listener_last_event_age",
            "Seconds since the last AMI event (since the listener started, before the first).",
            labels=labels,
            unit="seconds",
        )
        offset = GaugeMetricFamily(
            "ringtest_listener_clock_offset",
            "The PBX's clock minus ours (positive: the PBX is ahead).",
            labels=labels,
            unit="seconds",
        )
        counts = {
            name: CounterMetricFamily(f"ringtest_listener_{name}", documentation, labels=labels)
            for name, (documentation, _) in LISTENER_COUNTS.items()
        }
        for pbx, (stats, watched_at) in sorted(self.listener_stats.items()):
            connected.add_metric([pbx], 1.0 if stats.connected else 0.0)
            last_seen = stats.last_event_at or watched_at
            age.add_metric([pbx], max(0.0, (now - last_seen).total_seconds()))
            if stats.clock_offset_seconds is not None:
                offset.add_metric([pbx], stats.clock_offset_seconds)
            for name, (_, count_of) in LISTENER_COUNTS.items():
                counts[name].add_metric([pbx], count_of(stats))
        yield connected
        yield age
        if offset.samples:
            yield offset
        yield from counts.values()
