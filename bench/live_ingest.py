"""Ingest with the live view watched: the replay benchmark's whole path, 0 and 50 pages open.

The AMI replay stream (`bench.ami_replay`: ~200,000 events of the recorded call
shapes from a loopback server in a child process) goes through the listener as
`ringtest run` wires it: tracker, callback ledger, record stream, SQLite store
writer, the /metrics subscriber and the live feed whose server pushes every change.
Each repetition runs it twice, in turn: with no page open, and with `CLIENTS` event streams open
(raw HTTP clients on one thread that read every byte pushed, as 50 browsers
would). The clock stops when every call is stored; medians are reported.
"""

from __future__ import annotations

import asyncio
import logging
import selectors
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.ami_replay import Run, _StopAfter, timed
from bench.replay_server import LISTENER_USER, serving
from bench.results import machine_line, median, quick_mode, table, write_section
from bench.streams import BANNER, calls_for_events, load_shapes, plan_calls, stream_bytes
from ringtest.config import load_settings
from ringtest.config.adapters import monitored_lines_by_pbx, standards_of
from ringtest.core.stream import RecordStream
from ringtest.lab.settings import LAB_CONFIG
from ringtest.sources.live_calls import make_listener
from ringtest.store import Store
from ringtest.store.writer import StoreWriter
from ringtest.web.app import build_web_app
from ringtest.web.feed import LiveFeed
from ringtest.web.metrics import build_metrics
from ringtest.web.server import WebServer, feed_for

EVENTS, REPETITIONS = 200_000, 3
QUICK_EVENTS, QUICK_REPETITIONS = 40_000, 2
CLIENTS = 50
GOAL_EVENTS_PER_SECOND = 50_000


class EventStreamClients:
    """`count` open ``/events`` streams read by one thread; `received` bytes so far."""

    def __init__(self, port: int, count: int) -> None:
        self.selector = selectors.DefaultSelector()
        self.received = 0
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"GET /events HTTP/1.1\r\nHost: bench\r\n\r\n")
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
            self.sockets.append(sock)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="bench-sse-clients", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(0.1):
                data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                self.received += len(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for sock in self.sockets:
            self.selector.unregister(sock)
            sock.close()


@contextmanager
def watched(feed: LiveFeed, clients: int) -> Iterator[EventStreamClients | None]:
    """The live view served on port 0 with `clients` streams open (none: not served)."""
    if clients == 0:
        yield None
        return
    server = WebServer(build_web_app(feed), "127.0.0.1", 0).start()
    readers = EventStreamClients(server.port, clients)
    broadcaster = server.app.app.state.broadcaster
    deadline = time.monotonic() + 10
    while len(broadcaster.clients) < clients:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(broadcaster.clients)} of {clients} streams opened")
        time.sleep(0.01)
    try:
        yield readers
    finally:
        readers.close()
        server.stop()


def ingest(events: int, calls: int, clients: int, pushed: list[int]):
    """A reader for `timed`: the whole path with the live feed and `clients` pages."""

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
                feed = feed_for(settings, store)
                metrics = build_metrics(
                    standards_of(settings),
                    store,
                    monitored_lines_by_pbx(settings),
                    target_percent=settings.report.target_percent,
                )
                stream.subscribe("live view", feed.handle)
                stream.subscribe("metrics", metrics.subscriber.handle)
                stream.subscribe("store", writer.handle)
                listener = make_listener(settings, store, stream)
                sink = _StopAfter(listener.sink, events)
                listener.sink = sink
                with watched(feed, clients) as readers:

                    async def run() -> None:
                        sink.stop = asyncio.Event()
                        await listener.run(sink.stop)

                    asyncio.run(run())
                    writer.close()
                    if readers is not None:
                        pushed.append(readers.received)
                if len(store.calls()) != calls:
                    raise AssertionError(f"stored {len(store.calls())} calls, expected {calls}")
        return events - sink.remaining

    return read


def main() -> None:
    """Run ingest with 0 and `CLIENTS` live pages open, and write its section."""
    logging.getLogger("ami_listener").setLevel(logging.ERROR)
    events, repetitions = (
        (QUICK_EVENTS, QUICK_REPETITIONS) if quick_mode() else (EVENTS, REPETITIONS)
    )
    shapes = load_shapes()
    calls = calls_for_events(shapes, events)
    data = stream_bytes(list(plan_calls(shapes, calls)))
    frames = data.count(b"\r\n\r\n")
    pushed: list[int] = []
    runs: dict[int, list[Run]] = {0: [], CLIENTS: []}
    with serving(data.removeprefix(BANNER)) as port:
        for _ in range(repetitions):
            for clients in runs:
                run = timed(ingest(frames, calls, clients, pushed), port)
                if run.events != frames:
                    raise AssertionError(f"{clients} clients: saw {run.events} events of {frames}")
                runs[clients].append(run)
    rates = {
        clients: median([r.events / r.wall_seconds for r in rs]) for clients, rs in runs.items()
    }
    rows = [
        (clients, f"{rates[clients]:,.0f}", f"{rates[clients] / rates[0]:.0%}") for clients in runs
    ]
    watched_rate = rates[CLIENTS]
    verdict = "met" if watched_rate >= GOAL_EVENTS_PER_SECOND else "missed"
    section = "\n\n".join(
        [
            "## Ingest with the live view watched",
            "Command: `.venv/bin/python -m bench.live_ingest` (also run by `python -m bench`).",
            f"Machine: {machine_line()}.",
            f"The AMI replay stream ({frames:,} events, {calls:,} calls) through the whole path "
            "(tracker, ledger, SQLite writer, /metrics) and the live feed, with no page and with "
            f"{CLIENTS} event streams open (each read whole: "
            f"{median([float(p) for p in pushed]) / CLIENTS / 1e6:.1f} MB pushed to each per run); "
            f"medians of {repetitions} repetitions, the two in turn; timed until every call "
            "is stored.",
            table(["pages open", "events/s (wall)", "of no pages"], rows),
            f"Goal with {CLIENTS} pages >= {GOAL_EVENTS_PER_SECOND:,} events/s: "
            f"**{watched_rate:,.0f}** ({verdict}).",
        ]
    )
    write_section("live-ingest", section)
    print(section)


if __name__ == "__main__":
    main()
