"""Capacity of one `ringtest listen` process with many PBXs, each a busy PBX's event rate.

Each PBX is a loopback AMI server in its own child process (`paced_pbx`) that sends a
synthetic stream of the recorded lab call shapes (`bench.streams`) at
`EVENTS_PER_SECOND_PER_PBX`, paced by wall time: every frame leaves when the time in its
``Timestamp:`` comes, so the Timestamp is the moment the PBX sent it. The listener side
is the daemon as `ringtest listen` builds it (`build_host`, one listener per `[[pbx]]`
entry in one event loop, the record stream, the SQLite store writer).

Measured, per run of `SECONDS` seconds:

* **lag**: for every call ended on the stream, the stream's clock minus the call's end
  on the PBX's clock (its Hangup's Timestamp): how far behind the PBX the listener is.
  The worst PBX's 99th percentile and maximum are reported; the goal is under 1 s;
* **lost**: calls each PBX sent that were not stored (goal 0);
* the listener process's CPU (user + system seconds over wall seconds: 1.0 is one whole
  core) and its peak RSS.

The servers run on the same two cores as the listener, so their sending costs are in
the machine's load, not in the listener's CPU figure.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import resource
import socket
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

from bench.replay_server import LISTENER_USER, answer_login
from bench.results import machine_line, quick_mode, table, write_section
from bench.streams import citizen_numbers, load_shapes, plan_calls, synthesise
from ringtest.config import load_settings
from ringtest.core.stream import CallEnded, Change, RecordStream
from ringtest.services.assembly import DaemonPlan, build_host
from ringtest.store import Store

EVENTS_PER_SECOND_PER_PBX = 2_000
PBX_COUNTS, SECONDS = (20, 40), 60.0
QUICK_PBX_COUNTS, QUICK_SECONDS = (5,), 15.0
LAG_GOAL_SECONDS = 1.0
SEND_EVERY_SECONDS = 0.01
"""How often a PBX server sends what has become due (a busy PBX writes in small bursts)."""
START_AFTER_SECONDS = 3.0
"""Time the listener has to log in to every PBX before the streams begin."""
TOML_LINES = (
    '[[pbx.lines]]\nextension = "2001"\ndepartment = "Council Tax"\n'
    '[[pbx.lines]]\nextension = "2002"\ndepartment = "Housing"\n'
    '[[pbx.lines]]\nqueue = "benefits"\ndepartment = "Benefits"\n'
    '[[pbx.lines]]\nextension = "2000"\ndepartment = "Switchboard"\n'
    'contexts = ["council-switchboard"]\n'
    '[[pbx.lines]]\nextension = "2004"\ndepartment = "Planning"\n'
    '[[pbx.lines]]\nextension = "2005"\ndepartment = "Licensing"\n'
)


def calls_per_pbx(seconds: float) -> tuple[int, float]:
    """How many calls one PBX places in `seconds` at `EVENTS_PER_SECOND_PER_PBX`, and the
    seconds between their starts."""
    shapes = load_shapes()
    frames_per_call = statistics.mean(len(shape.frames) for shape in shapes)
    spacing = frames_per_call / EVENTS_PER_SECOND_PER_PBX
    return int(seconds / spacing), spacing


def pbx_stream(index: int, seconds: float) -> list[tuple[float, bytes, bytes]]:
    """PBX `index`'s frames as (seconds from the start, bytes before the Timestamp's value,
    bytes after it): the Timestamp is written when the frame is sent."""
    calls, spacing = calls_per_pbx(seconds)
    planned = plan_calls(
        load_shapes(),
        calls,
        callers=citizen_numbers(first=index * 100_000),
        start_spacing_seconds=spacing,
        first_start=0.0,
    )
    frames = []
    for frame in synthesise(planned):
        head, found, rest = frame.partition(b"Timestamp: ")
        if not found:
            frames.append((0.0, frame, b""))
            continue
        value, _, tail = rest.partition(b"\r\n")
        frames.append((float(value), head + found, b"\r\n" + tail))
    return frames


def paced_pbx(
    listening: socket.socket, index: int, seconds: float, ready: Event, start: Synchronized
) -> None:
    """A child process: its stream made, `ready` set; then one client, its login answered,
    and from `start` (UNIX seconds, once set) every frame sent when it is due, stamped."""
    frames = pbx_stream(index, seconds)
    ready.set()
    connection, _ = listening.accept()
    with connection:
        answer_login(connection)
        while start.value == 0.0:
            time.sleep(SEND_EVERY_SECONDS)
        begin = start.value
        position = 0
        while position < len(frames):
            due_by = time.time() - begin
            batch = []
            while position < len(frames) and frames[position][0] <= due_by:
                offset, head, tail = frames[position]
                batch.append(head + (b"%.6f" % (begin + offset) if tail else b"") + tail)
                position += 1
            if batch:
                connection.sendall(b"".join(batch))
            time.sleep(SEND_EVERY_SECONDS)
        while connection.recv(65536):
            pass


@contextmanager
def pbx_servers(count: int, seconds: float) -> Iterator[tuple[list[int], Synchronized]]:
    """`count` paced PBX servers, their streams made; yields their ports and the start
    time to set (UNIX seconds) once the listener is connected."""
    context = multiprocessing.get_context("fork")
    start = context.Value("d", 0.0)
    ports, processes, readies = [], [], []
    for index in range(count):
        listening = socket.create_server(("127.0.0.1", 0))
        ports.append(listening.getsockname()[1])
        ready = context.Event()
        process = context.Process(
            target=paced_pbx, args=(listening, index, seconds, ready, start), daemon=True
        )
        process.start()
        listening.close()
        processes.append(process)
        readies.append(ready)
    try:
        for ready in readies:
            ready.wait()
        yield ports, start
    finally:
        for process in processes:
            process.terminate()
            process.join()


class LagWatch:
    """A stream subscriber: each ended call's lag behind its PBX, by PBX."""

    def __init__(self) -> None:
        self.lags: dict[str, list[float]] = defaultdict(list)
        self.ended: dict[str, int] = defaultdict(int)

    def handle(self, changes: Sequence[Change]) -> None:
        now = datetime.now(UTC)
        for change in changes:
            if isinstance(change, CallEnded) and change.record.ended_at is not None:
                record = change.record
                self.lags[record.pbx].append((now - record.ended_at).total_seconds())
                self.ended[record.pbx] += 1


def settings_for(ports: Sequence[int], work: Path):
    entries = "".join(
        f'[[pbx]]\nname = "pbx{index:02d}"\nport = {port}\n{TOML_LINES}'
        for index, port in enumerate(ports)
    )
    config = work / "ringtest.toml"
    config.write_text(
        f'[ami]\nuser = "{LISTENER_USER.decode()}"\nsecret = "bench"\n'
        f'journal_dir = "{work / "journal"}"\ninbound_contexts = ["council-inbound"]\n'
        f'[store]\nurl = "sqlite:///{work / "ringtest.db"}"\n{entries}'
    )
    return load_settings(config, environ={})


def run(pbxs: int, seconds: float) -> dict[str, object]:
    """One run: `pbxs` PBXs for `seconds`; returns its row of figures."""
    expected = calls_per_pbx(seconds)[0]
    with (
        tempfile.TemporaryDirectory(prefix="ringtest-bench-pbxs-") as directory,
        ExitStack() as stack,
    ):
        work = Path(directory)
        ports, start = stack.enter_context(pbx_servers(pbxs, seconds))
        settings = settings_for(ports, work)
        store = stack.enter_context(Store.open(settings.store_url()))
        stream = RecordStream()
        watch = LagWatch()
        stream.subscribe("lag", watch.handle)
        host = build_host(settings, store, DaemonPlan(listen=True), stream)
        host.start()
        time.sleep(START_AFTER_SECONDS)
        cpu_before = _cpu_seconds()
        began = time.monotonic()
        start.value = time.time()
        deadline = began + seconds + 30.0
        while sum(watch.ended.values()) < expected * pbxs and time.monotonic() < deadline:
            time.sleep(0.5)
        wall = time.monotonic() - began
        cpu = _cpu_seconds() - cpu_before
        host.stop()
        stored: dict[str, int] = defaultdict(int)
        for call in store.iter_calls(None, None):
            stored[call.pbx] += 1
    names = [f"pbx{index:02d}" for index in range(pbxs)]
    lost = sum(max(0, expected - stored[name]) for name in names)
    worst_p99 = max(_percentile(watch.lags[name], 0.99) for name in names)
    worst_max = max(max(watch.lags[name], default=float("inf")) for name in names)
    return {
        "pbxs": pbxs,
        "events_per_second": pbxs * EVENTS_PER_SECOND_PER_PBX,
        "calls": expected * pbxs,
        "lost": lost,
        "lag_p99": worst_p99,
        "lag_max": worst_max,
        "cpu_cores": cpu / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(rows: Sequence[dict[str, object]], seconds: float, command: str) -> str:
    lines = [
        "## Several PBXs in one daemon",
        "",
        f"`{command}` ({machine_line()}): each PBX a loopback server in its own process "
        f"sending {EVENTS_PER_SECOND_PER_PBX:,} events/s of the recorded lab call shapes "
        f"for {seconds:.0f} s, paced by their Timestamps; one `ringtest listen` daemon "
        "(one event loop, one listener per `[[pbx]]`, SQLite store). Lag: the stream's clock "
        "minus the call's Hangup Timestamp, worst PBX. CPU: the daemon process's user+system "
        "seconds per wall second (1.0 = one core). Lost: calls sent but not stored when the "
        "run stops the daemon, 30 s after the last frame was due (a daemon still that far "
        "behind is past its capacity). Goal: lag under "
        f"{LAG_GOAL_SECONDS:.0f} s and 0 lost.",
        "",
        table(
            (
                "PBXs",
                "events/s",
                "calls",
                "lost",
                "lag p99 s",
                "lag max s",
                "CPU cores",
                "peak RSS MB",
            ),
            [
                (
                    row["pbxs"],
                    f"{row['events_per_second']:,}",
                    f"{row['calls']:,}",
                    row["lost"],
                    f"{row['lag_p99']:.3f}",
                    f"{row['lag_max']:.3f}",
                    f"{row['cpu_cores']:.2f}",
                    f"{row['peak_rss_mb']:.0f}",
                )
                for row in rows
            ],
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pbxs", type=int, nargs="*", help="PBX counts to run")
    parser.add_argument("--seconds", type=float, help="seconds of traffic per run")
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    quick = quick_mode()
    counts = arguments.pbxs or (QUICK_PBX_COUNTS if quick else PBX_COUNTS)
    seconds = arguments.seconds or (QUICK_SECONDS if quick else SECONDS)
    rows = []
    for pbxs in counts:
        row = run(pbxs, seconds)
        print(row, flush=True)
        rows.append(row)
    command = ".venv/bin/python -m bench.several_pbxs" + (
        f" --pbxs {' '.join(map(str, counts))}" if arguments.pbxs else ""
    )
    write_section("several-pbxs", report(rows, seconds, command))


if __name__ == "__main__":
    main()
