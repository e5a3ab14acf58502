"""A second PBX for the several-PBX tests: a real TCP AMI server on loopback that plays a
recorded lab stream at the pace it was recorded (by its events' ``Timestamp:``).

It runs `tests.ami.fake_ami.FakeAmi` (banner, Login, Ping, CoreShowChannels, CoreStatus)
on its own thread and event loop, so that a listener in another thread or process
logs in to it as to Asterisk; `play` then sends the recording's frames to every logged-in
client, each after the delay its Timestamp says, and leaves the link open.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.ami.fake_ami import FakeAmi

_TIMESTAMP = re.compile(rb"^Timestamp: (\d+\.\d+)\r?$", re.MULTILINE)


def timed_frames(recording: Path) -> list[tuple[float | None, bytes]]:
    """The recording's frames after its banner and login reply, each with its Timestamp
    (UNIX seconds; None for a frame without one)."""
    text = recording.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    frames = [frame + b"\r\n\r\n" for frame in text.split(b"\r\n\r\n") if frame.strip()]
    events = [frame for frame in frames if frame.startswith(b"Event: ")]
    return [(_timestamp(frame), frame) for frame in events]


def _timestamp(frame: bytes) -> float | None:
    found = _TIMESTAMP.search(frame)
    return float(found.group(1)) if found else None


class RecordedPbx:
    """A `FakeAmi` on its own thread; `port` once started."""

    def __init__(self, secret: str) -> None:
        self.ami = FakeAmi(secret=secret)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.ami.port

    def start(self) -> RecordedPbx:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.ami.start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.ami.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def play(self, recording: Path) -> int:
        """Send `recording`'s events at their recorded pace; returns how many were sent."""
        frames = timed_frames(recording)
        first = next(at for at, _ in frames if at is not None)
        began = time.monotonic()
        for at, frame in frames:
            if at is not None:
                time.sleep(max(0.0, (at - first) - (time.monotonic() - began)))
            self._loop.call_soon_threadsafe(self.ami.push, frame)
        return len(frames)


@contextmanager
def recorded_pbx(secret: str) -> Iterator[RecordedPbx]:
    pbx = RecordedPbx(secret).start()
    try:
        yield pbx
    finally:
        pbx.stop()
