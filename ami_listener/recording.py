"""Recorded AMI streams: write what the socket gave us, read it back for replay.

Two formats are read:

* ringtest's own recording: the line ``RINGTEST-AMI-RECORDING 1``, then one
  chunk per socket read: ``<receive time, UNIX seconds> <byte count>`` on its
  own line, the chunk's bytes exactly as received, and a newline. Receive times
  matter only for events without a ``Timestamp:`` header.
* a plain raw AMI byte stream as read from the socket (for example captured
  with ``nc``): no receive times; events are timed by their ``Timestamp:``.

Either way `read_chunks` yields ``(received_at, bytes)`` pairs that go through
the same frame buffer, parser and tracker as the live socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ringtest.errors import RingtestError

MAGIC = b"RINGTEST-AMI-RECORDING 1\n"
RAW_CHUNK_BYTES = 64 * 1024


class RecordingError(RingtestError):
    """A recording file that cannot be read."""


class Recorder:
    """Appends socket chunks with their receive times to a recording file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: BinaryIO = path.open("ab")
        except OSError as error:
            raise RecordingError(
                f"cannot write the AMI recording {path} ({error.strerror}): "
                "check the directory exists and is writable"
            ) from None
        if self._file.tell() == 0:
            self._file.write(MAGIC)

    def write(self, received_at: datetime, chunk: bytes) -> None:
        """Record one chunk as received at `received_at` (aware UTC)."""
        self._file.write(f"{received_at.timestamp():.6f} {len(chunk)}\n".encode())
        self._file.write(chunk)
        self._file.write(b"\n")

    def close(self) -> None:
        self._file.close()


def read_chunks(path: Path) -> Iterator[tuple[datetime | None, bytes]]:
    """Yield ``(received_at or None, chunk)`` from a ringtest recording or a raw stream."""
    try:
        stream = path.open("rb")
    except OSError as error:
        raise RecordingError(
            f"cannot read the AMI recording {path} ({error.strerror}): check the path"
        ) from None
    with stream:
        if stream.read(len(MAGIC)) != MAGIC:
            stream.seek(0)
            while chunk := stream.read(RAW_CHUNK_BYTES):
                yield None, chunk
            return
        yield from _recorded_chunks(stream, path)


def _recorded_chunks(stream: BinaryIO, path: Path) -> Iterator[tuple[datetime, bytes]]:
    chunk_number = 0
    while header := stream.readline():
        chunk_number += 1
        try:
            seconds_text, length_text = header.split()
            received_at = datetime.fromtimestamp(float(seconds_text), tz=UTC)
            length = int(length_text)
        except ValueError:
            raise RecordingError(
                f"{path}: chunk {chunk_number} has a bad header {header[:40]!r}: "
                "the recording is damaged; replay it as a raw stream after removing the first line"
            ) from None
        chunk = stream.read(length)
        if len(chunk) < length or stream.read(1) != b"\n":
            return
        yield received_at, chunk
