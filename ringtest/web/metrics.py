"""/metrics for Prometheus: the record stream's figures in OpenMetrics, with prometheus_client.

`build_metrics` makes one registry of this process's own (never the library's
global one) holding two parts:

* `CallMetrics` (`ringtest.web.metrics_calls`), a `RecordStream` subscriber
  that counts calls by outcome, calls answered within the standard, ring tests,
  callbacks opened and closed, and the listener's gaps, and fills the ring-time
  histogram;
* `LiveGauges` (`ringtest.web.metrics_gauges`), a custom collector that reads
  the calls ringing now, the callbacks owed and overdue (from the store), the
  opening hours, the target and the listener's health at scrape time.

`Metrics.app` is an ASGI app (`ringtest.web.metrics_app`) that serves the
registry in prometheus_client's formats, rendered off the event loop:
OpenMetrics to a client that accepts it (Prometheus does), else the classic
text format. Names follow Prometheus's conventions: base unit seconds,
counters end ``_total``, labels only department, line, outcome and source
(``live`` or ``test``). The README's "Metrics for Prometheus" lists them all.

Counters count from this process's start, not from the store: Prometheus reads
a restart as a counter reset and its ``increase()`` and ``rate()`` carry on
across it. The gauges are read from the store and live state, so they are whole
from the first scrape. The ``_created`` series are switched off (for the whole
process: prometheus_client has no other switch): Prometheus 2 ignores them, and
they were a quarter of a scrape's series, whose count is a scrape's cost
(bench/metrics_scrape.py).

Ring-time buckets fall on the cadence's ring boundaries: every ring up to the
standard, then `RINGS_BEYOND_STANDARD` (GB at 7 rings: 3, 6, ..., 21, 30, 60 s).
They come from the service's `RingRule`, the one definition of rings, so a
bucket bound ``le`` of k rings holds the waits `RingRule.rings` calls k rings or
fewer (to the microsecond). Lines share one cadence (`Standards` holds one `RingRule`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, disable_created_metrics

from ami_listener.lines import MonitoredLine
from ami_listener.stats import ListenerStats
from ringtest.core.standards import RingRule, Standards
from ringtest.store import Store
from ringtest.web.metrics_app import ASGIApp, make_metrics_app
from ringtest.web.metrics_calls import CallMetrics
from ringtest.web.metrics_gauges import LiveGauges

RINGS_BEYOND_STANDARD = (10, 20)
"""Bucket bounds past the standard, in rings (GB: 30 s and 60 s); a standard of 20 rings or
more gets one bound at twice the standard instead."""

_MICROSECONDS_PER_SECOND = 1_000_000


def ring_time_buckets(ring_rule: RingRule) -> tuple[float, ...]:
    """The ring-time histogram's upper bounds in float seconds: the end of every ring up
    to the standard, then `RINGS_BEYOND_STANDARD` (prometheus_client adds +Inf)."""
    standard = ring_rule.answer_within_rings
    beyond = [rings for rings in RINGS_BEYOND_STANDARD if rings > standard] or [2 * standard]
    microseconds_per_ring = round(ring_rule.seconds_per_ring * _MICROSECONDS_PER_SECOND)
    return tuple(
        rings * microseconds_per_ring / _MICROSECONDS_PER_SECOND
        for rings in [*range(1, standard + 1), *beyond]
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Metrics:
    """One process's /metrics.

    subscriber: subscribe ``subscriber.handle`` to the process's `RecordStream`.
    gauges: the scrape-time collector; `watch_listener` adds a listener's health.
    app: the ASGI app to mount at ``/metrics``.
    """

    registry: CollectorRegistry
    subscriber: CallMetrics
    gauges: LiveGauges
    app: ASGIApp

    def watch_listener(self, stats: ListenerStats) -> None:
        """Export the health of the listener whose stats these are (one per process)."""
        self.gauges.watch_listener(stats)


def build_metrics(
    standards: Standards,
    store: Store,
    lines: Mapping[str, Iterable[MonitoredLine]] | None = None,
    *,
    target_percent: float = 90.0,
    listener_stats: ListenerStats | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Metrics:
    """The /metrics of a process measuring against `standards` and storing in `store`.

    lines: each PBX's configured lines (their live call series start at 0). target_percent:
    the share of calls to answer within the standard (``report.target_percent``).
    listener_stats: the in-process listener's, if it exists yet (else `watch_listener`).
    clock: aware UTC now, for the gauges.
    """
    disable_created_metrics()
    registry = CollectorRegistry()
    subscriber = CallMetrics(registry, ring_time_buckets(standards.ring_rule), lines)
    gauges = LiveGauges(subscriber, standards, store, target_percent / 100, clock)
    registry.register(gauges)
    metrics = Metrics(registry, subscriber, gauges, make_metrics_app(registry))
    if listener_stats is not None:
        metrics.watch_listener(listener_stats)
    return metrics
