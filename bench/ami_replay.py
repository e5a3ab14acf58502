"""AMI replay throughput: five readers, one synthetic stream, one run.

Every reader consumes the same ~200,000-event stream (`bench.streams`) from a
loopback TCP server in a child process (`bench.replay_server`), so socket
costs are included. Each repetition runs the readers in turn (round robin, so
drift on a shared machine hits them alike); the table gives medians.

1. floor, frames only: a bare asyncio Protocol that sends a Login frame, splits
   the bytes on CRLF CRLF with `bytes.split` and counts frames. Nothing is decoded.
2. floor, frames and headers: the same Protocol, and each frame decoded (UTF-8)
   and split into a dict of its headers (`str.split`, `str.partition`): the least a reader
   must do to hand over events. The issue measured this floor at ~116k events/s
   on this kind of machine (its frames-only floor would be ten times that).
3. ringtest reader: `ami_listener.connection.AmiConnection`: connect, banner,
   Login (matched by ActionID), then every frame split by `FrameBuffer`, decoded
   by `parse_frame` into an `AmiMessage` and dispatched to a handler that counts.
4. asterisk-ami 0.1.7: its `AMIClient` with its defaults (reader thread), login,
   an event listener that counts.
5. ringtest whole path: the `Listener` as `ringtest listen` builds it from
   examples/lab.toml (login, CoreShowChannels resync, tracker, callback ledger),
   publishing on a `RecordStream` with a `StoreWriter` subscribed, SQLite in a
   temp dir; the clock stops when the writer thread has stored every call.

The goal "reader within 80 % of the floor" is judged against floor 2, which hands
over what a reader hands over; floor 1 is shown for the cost of the bytes alone.
Times are wall-clock from connect to the last event consumed (5: stored);
events/CPU-s divides by this process's CPU time (all its threads) instead.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ami_listener.connection import AmiConnection
from ami_listener.message import AmiMessage
from ami_listener.pipeline import Batch, Sink
from bench.replay_server import LISTENER_USER, serving
from bench.results import machine_line, median, quick_mode, table, write_section
from bench.streams import BANNER, calls_for_events, load_shapes, plan_calls, stream_bytes
from ringtest.config import load_settings
from ringtest.core.stream import RecordStream
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter

EVENTS, REPETITIONS = 200_000, 5
QUICK_EVENTS, QUICK_REPETITIONS = 40_000, 3
GOAL_READER_SHARE_OF_FLOOR = 0.80
GOAL_WHOLE_PATH_EVENTS_PER_SECOND = 50_000
LOGIN_READER = b"Action: Login\r\nActionID: 1\r\nUsername: reader\r\nSecret: x\r\n\r\n"


@dataclass(frozen=True)
class Run:
    """One reader's pass over the stream: events seen, wall seconds, CPU seconds."""

    events: int
    wall_seconds: float
    cpu_seconds: float


def timed(read: Callable[[int], int], port: int) -> Run:
    """Run `read(port)` (returns events seen) and time it."""
    wall, cpu = time.perf_counter(), time.process_time()
    events = read(port)
    return Run(events, time.perf_counter() - wall, time.process_time() - cpu)


class FloorProtocol(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[int]) -> None:
        self.done = done
        self.tail = b""
        self.frames = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(LOGIN_READER)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        parts = (self.tail + data).split(b"\r\n\r\n")
        self.tail = parts.pop()
        self.frames += len(parts)

    def connection_lost(self, exc: Exception | None) -> None:
        self.done.set_result(self.frames - 1)  # the Login response is not an event


class HeaderFloorProtocol(FloorProtocol):
    def data_received(self, data: bytes) -> None:
        parts = (self.tail + data).split(b"\r\n\r\n")
        self.tail = parts.pop()
        for frame in parts:
            lines = frame.decode("utf-8", "replace").split("\r\n")
            headers = {key: value for key, _, value in (line.partition(": ") for line in lines)}
            self.frames += bool(headers)


def floor_reader(protocol: type[FloorProtocol]) -> Callable[[int], int]:
    """Reader 1 or 2: `protocol` on a bare asyncio connection."""

    def read(port: int) -> int:
        async def run() -> int:
            loop = asyncio.get_running_loop()
            done: asyncio.Future[int] = loop.create_future()
            await loop.create_connection(lambda: protocol(done), "127.0.0.1", port)
            return await done

        return asyncio.run(run())

    return read


def read_ringtest_reader(port: int) -> int:
    events = 0

    def count(_message: AmiMessage) -> None:
        nonlocal events
        events += 1

    async def run() -> int:
        connection = AmiConnection("127.0.0.1", port, on_event=count)
        await connection.connect()
        await connection.login("reader", "x")
        await connection.lost
        return events

    return asyncio.run(run())


def read_asterisk_ami(port: int) -> int:
    from asterisk.ami import AMIClient

    events = 0
    disconnected = threading.Event()

    def count(event: object, source: object) -> None:
        nonlocal events
        events += 1

    client = AMIClient(address="127.0.0.1", port=port)
    client.add_event_listener(count)
    client.add_listener(on_disconnect=lambda source, error=None: disconnected.set())
    client.login(username="reader", secret="x")
    disconnected.wait()
    return events


class _StopAfter:
    """Forwards to a sink and sets `stop` once `events` events have gone by."""

    def __init__(self, sink: Sink, events: int) -> None:
        self.sink = sink
        self.remaining = events
        self.stop: asyncio.Event | None = None

    def write(self, batch: Batch) -> None:
        self.sink.write(batch)
        if self.remaining > 0:
            self.remaining -= 1
            if self.remaining == 0 and self.stop is not None:
                self.stop.set()


def whole_path_reader(events: int, calls: int) -> Callable[[int], int]:
    """Reader 5: returns how many events went by; checks every call was stored."""

    def read(port: int) -> int:
        with tempfile.TemporaryDirectory(prefix="ringtest-bench-") as work:
            settings = load_settings(
                LAB_CONFIG,
                overrides={
                    "ami.port": port,
                    "ami.user": LISTENER_USER.decode(),
                    "store.url": f"sqlite:///{work}/bench.db",
                },
            )
            with Store.open(settings.store_url()) as store:
                stream = RecordStream()
                writer = StoreWriter(store)
                stream.subscribe("store", writer.handle)
                listener = make_listener(settings, store, stream)
                sink = _StopAfter(listener.sink, events)
                listener.sink = sink

                async def run() -> None:
                    sink.stop = asyncio.Event()
                    await listener.run(sink.stop)

                asyncio.run(run())
                writer.close()
                seen = events - sink.remaining
                if len(store.calls()) != calls:
                    raise AssertionError(f"stored {len(store.calls())} calls, expected {calls}")
        return seen

    return read


def measure(events: int, repetitions: int) -> tuple[dict[str, list[Run]], int, int]:
    """Every reader `repetitions` times on one stream; returns runs, events and calls."""
    shapes = load_shapes()
    calls = calls_for_events(shapes, events)
    stream = stream_bytes(list(plan_calls(shapes, calls)))
    frames = stream.count(b"\r\n\r\n")
    readers = {
        "floor, frames only: asyncio Protocol + bytes.split": floor_reader(FloorProtocol),
        "floor, frames and headers: + decode + str.split": floor_reader(HeaderFloorProtocol),
        "ringtest reader alone (AmiConnection)": read_ringtest_reader,
        "asterisk-ami 0.1.7 client alone": read_asterisk_ami,
        "ringtest whole path (-> tracker -> ledger -> SQLite)": whole_path_reader(frames, calls),
    }
    runs: dict[str, list[Run]] = {name: [] for name in readers}
    with serving(stream.removeprefix(BANNER)) as port:
        for _ in range(repetitions):
            for name, read in readers.items():
                run = timed(read, port)
                if run.events != frames:
                    raise AssertionError(f"{name} saw {run.events} events of {frames}")
                runs[name].append(run)
    return runs, frames, calls


def report(runs: dict[str, list[Run]], events: int, calls: int, repetitions: int) -> str:
    rates = {name: median([r.events / r.wall_seconds for r in rs]) for name, rs in runs.items()}
    cpu_rates = {name: median([r.events / r.cpu_seconds for r in rs]) for name, rs in runs.items()}
    names = list(runs)
    bytes_floor, floor = rates[names[0]], rates[names[1]]
    rows = [
        (
            name,
            f"{rates[name]:,.0f}",
            f"{rates[name] / floor:.0%}",
            f"{rates[name] / bytes_floor:.0%}",
            f"{cpu_rates[name]:,.0f}",
        )
        for name in runs
    ]
    reader_share = rates[names[2]] / floor
    whole = rates[names[4]]
    reader_verdict = "met" if reader_share >= GOAL_READER_SHARE_OF_FLOOR else "missed"
    whole_verdict = "met" if whole >= GOAL_WHOLE_PATH_EVENTS_PER_SECOND else "missed"
    return "\n\n".join(
        [
            "## AMI replay throughput",
            "Command: `.venv/bin/python -m bench.ami_replay` (also run by `python -m bench`).",
            f"Machine: {machine_line()}.",
            f"Stream: {events:,} events ({calls:,} calls of the 9 recorded shapes, "
            "about 47 % VarSet), served from a loopback TCP server in a child process; "
            f"medians of {repetitions} repetitions, readers in turn.",
            table(
                [
                    "reader",
                    "events/s (wall)",
                    "of floor (frames and headers)",
                    "of floor (frames only)",
                    "events per CPU-s",
                ],
                rows,
            ),
            f"Goals: ringtest reader >= {GOAL_READER_SHARE_OF_FLOOR:.0%} of the floor "
            f"(frames and headers): **{reader_share:.0%}** ({reader_verdict}); "
            f"of the frames-only floor it is {rates[names[2]] / bytes_floor:.0%} "
            "(that floor decodes nothing; ringtest decodes each frame and hands over an "
            "event whose headers it parses on first use); "
            f"whole path >= {GOAL_WHOLE_PATH_EVENTS_PER_SECOND:,} events/s: **{whole:,.0f}** "
            f"({whole_verdict}).",
        ]
    )


def main() -> None:
    """Run the replay benchmark and write its section of bench/RESULTS.md."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    quick = quick_mode()
    events, repetitions = (QUICK_EVENTS, QUICK_REPETITIONS) if quick else (EVENTS, REPETITIONS)
    runs, frames, calls = measure(events, repetitions)
    section = report(runs, frames, calls, repetitions)
    write_section("ami-replay", section)
    print(section)


if __name__ == "__main__":
    main()
