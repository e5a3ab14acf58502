"""Memory over a million calls: tracker + callback ledger, RSS sampled every 100,000 calls.

The calls are synthetic copies of the recorded lab calls (`bench.streams`),
a few in progress at a time, fed as bytes through `CallPipeline` (frame
buffer, parser, tracker, callback ledger) into a sink that drops every batch.
To make a million calls fit in minutes, each call keeps only the frames of the
events the tracker acts on (`TRACKED_EVENTS`); the ones it ignores (``VarSet``,
``TestEvent``, RTCP...) are dropped by the tracker at once and leave no state.

Three runs:

* answered: only shapes a person answers: no callback is ever owed (1,000,000 calls).
* missed, distinct callers: the usual mix (about a quarter missed), every call
  from a new number that never calls again: every miss stays owed for ever.
* missed, 5,000 callers: the same mix from a pool of 5,000 numbers, so a
  caller who missed later gets through and their obligations close.

The two runs with missed calls are 200,000 calls each, to keep the whole
benchmark within minutes; growth per call is what they show.

RSS is this process's resident set (``/proc/self/statm``) after a collection.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import logging
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from ami_listener.obligations import CallbackLedger
from ami_listener.pipeline import Batch, CallPipeline
from ami_listener.tracker import CallTracker
from bench.results import machine_line, quick_mode, table, write_section
from bench.streams import (
    ANSWERED_SHAPES,
    SHAPE_WEIGHTS,
    CallShape,
    citizen_numbers,
    lab_standards,
    load_shapes,
    plan_calls,
    synthesise,
)
from ringtest.lab.settings import lab_lines

CALLS, QUICK_CALLS = 1_000_000, 100_000
MISSED_CALLS, QUICK_MISSED_CALLS = 200_000, 20_000
SAMPLES = 10
POOL_CALLERS = 5_000
CHUNK_BYTES = 64 * 1024
TRACKED_EVENTS = frozenset(
    {
        b"Newchannel",
        b"Hangup",
        b"Newexten",
        b"Newstate",
        b"DialState",
        b"DialEnd",
        b"QueueCallerJoin",
        b"NewCallerid",
    }
)
"""The events `CallTracker.feed` acts on; every other event returns at once."""


class DropSink:
    """Counts what it is given and keeps nothing."""

    def __init__(self) -> None:
        self.calls = 0
        self.obligations = 0

    def write(self, batch: Batch) -> None:
        self.calls += len(batch.calls)
        self.obligations += len(batch.obligations)


@dataclasses.dataclass(frozen=True)
class Sample:
    """The state after `calls` calls: RSS (MiB), open calls, obligations still owed."""

    calls: int
    rss_mib: float
    open_calls: int
    owed: int
    seconds: float


def tracked_only(shape: CallShape) -> CallShape:
    """`shape` with only the frames of events the tracker acts on."""
    frames = tuple(
        (offset, template)
        for offset, template in shape.frames
        if template[7 : template.find(b"\r\n")] in TRACKED_EVENTS
    )
    return dataclasses.replace(shape, frames=frames)


def rss_mib() -> float:
    gc.collect()
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run(shapes: list[CallShape], calls: int, callers: Iterable[str]) -> list[Sample]:
    """Feed `calls` calls; sample every `calls / SAMPLES` calls."""
    standards = lab_standards()
    ledger = CallbackLedger(standards)
    pipeline = CallPipeline(CallTracker("lab", lab_lines(), standards), ledger)
    sink = DropSink()
    every = calls // SAMPLES
    started = time.perf_counter()
    samples = [Sample(0, rss_mib(), 0, 0, 0.0)]
    now = datetime.now(UTC)
    pending: list[bytes] = []
    size = 0
    frames = synthesise(plan_calls(shapes, calls, callers=callers, start_spacing_seconds=0.5))
    for frame in itertools.chain(frames, [b""]):
        pending.append(frame)
        size += len(frame)
        if size < CHUNK_BYTES and frame:
            continue
        sink.write(pipeline.feed_bytes(b"".join(pending), now))
        pending, size = [], 0
        if sink.calls >= samples[-1].calls + every or not frame:
            samples.append(
                Sample(
                    sink.calls,
                    rss_mib(),
                    len(pipeline.tracker.open_calls()),
                    len(ledger.owed()),
                    time.perf_counter() - started,
                )
            )
    if sink.calls != calls or pipeline.tracker.anomalies:
        raise AssertionError(f"{sink.calls} of {calls} calls, {pipeline.tracker.anomalies}")
    return samples


def describe(name: str, samples: list[Sample]) -> str:
    rows = [
        (
            f"{s.calls:,}",
            f"{s.rss_mib:.1f}",
            f"{s.rss_mib - samples[1].rss_mib:+.1f}",
            s.open_calls,
            f"{s.owed:,}",
            f"{s.seconds:.0f}",
        )
        for s in samples
    ]
    return f"**{name}**\n\n" + table(
        ["calls", "RSS MiB", "vs first 10%", "open calls", "owed callbacks", "seconds"], rows
    )


def main() -> None:
    """Run the memory benchmark and write its section of bench/RESULTS.md."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    calls, missed_calls = (
        (QUICK_CALLS, QUICK_MISSED_CALLS) if quick_mode() else (CALLS, MISSED_CALLS)
    )
    shapes = [tracked_only(shape) for shape in load_shapes()]
    answered = [shape for shape in shapes if shape.name in ANSWERED_SHAPES]
    missed_share = sum(w for n, w in SHAPE_WEIGHTS.items() if n not in ANSWERED_SHAPES) / sum(
        SHAPE_WEIGHTS.values()
    )
    runs = {
        "answered (no callbacks owed)": run(answered, calls, citizen_numbers()),
        f"{missed_share:.0%} missed, every caller distinct, nobody calls back": run(
            shapes, missed_calls, citizen_numbers()
        ),
        f"{missed_share:.0%} missed, {POOL_CALLERS:,} callers who call again": run(
            shapes, missed_calls, itertools.cycle(list(citizen_numbers(POOL_CALLERS)))
        ),
    }
    section = "\n\n".join(
        [
            "## AMI memory over a million calls",
            "Command: `.venv/bin/python -m bench.ami_memory` (also run by `python -m bench`).",
            f"Machine: {machine_line()}.",
            "Synthetic calls through frame buffer, parser, tracker and "
            "callback ledger into a sink that drops batches; only the frames of events the "
            "tracker acts on are sent (see the module docstring). RSS after `gc.collect()`.",
            *(describe(name, samples) for name, samples in runs.items()),
        ]
    )
    write_section("ami-memory", section)
    print(section)


if __name__ == "__main__":
    main()
