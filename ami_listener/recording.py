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

A recording whose framing breaks (a header that is not two numbers, a time out
of range, a byte count over `MAX_CHUNK_BYTES`, a chunk not followed by its
newline) raises `RecordingCorrupt` naming the byte offset: replaying on past it
would drop everything after, silently. The one break that is expected, the tail
of a recording whose writer was killed mid-chunk, ends the replay with a warning
naming what was not replayed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ringtest.core.errors import RingtestError
from ringtest.core.private_files import open_private_for_append

logger = logging.getLogger(__name__)

MAGIC = b"RINGTEST-AMI-RECORDING 1\n"
RAW_CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 1024 * 1024
"""A chunk is one socket read; asyncio reads at most 256 KiB at a time."""
MAX_HEADER_BYTES = 64
"""A header is ``<seconds with 6 decimals> <byte count>``: about 30 bytes."""


class RecordingError(RingtestError):
    """A recording file that cannot be read."""


class RecordingCorrupt(RecordingError):
    """A ringtest recording whose chunk framing is broken at a known byte offset."""


class Recorder:
    """Appends socket chunks with their receive times to a recording file (0600 when new:
    it holds caller numbers)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._file: BinaryIO = open_private_for_append(path)
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
        for _, received_at, chunk in recorded_chunks(stream, path):
            yield received_at, chunk


def recorded_chunks(stream: BinaryIO, path: Path) -> Iterator[tuple[int, datetime, bytes]]:
    """Yield ``(byte offset of the chunk's header, received_at, chunk)`` from a ringtest
    recording `stream` positioned just after its `MAGIC` line (`path` names it in errors)."""
    chunk_number = 0
    while header := stream.readline(MAX_HEADER_BYTES):
        offset = stream.tell() - len(header)
        chunk_number += 1
        if not header.endswith(b"\n") and len(header) < MAX_HEADER_BYTES:
            _warn_cut_off(path, offset, len(header))
            return
        received_at, length = _parse_header(header, path, offset, chunk_number)
        chunk = stream.read(length)
        if len(chunk) < length:
            _warn_cut_off(path, offset, len(header) + len(chunk))
            return
        if stream.read(1) not in (b"\n", b""):
            raise _corrupt(
                path, offset, f"chunk {chunk_number} is not the {length} bytes its header says"
            )
        yield offset, received_at, chunk


def _parse_header(
    header: bytes, path: Path, offset: int, chunk_number: int
) -> tuple[datetime, int]:
    """``(received_at, byte count)`` from a chunk header; `RecordingCorrupt` if it is not one."""
    fields = header.split()
    shown = header.decode("ascii", "replace").strip()[:40]
    problem = f"chunk {chunk_number} has a bad header {shown!r}"
    if len(fields) != 2:
        raise _corrupt(path, offset, f"{problem} (not '<UNIX seconds> <byte count>')")
    seconds_text, length_text = fields
    try:
        seconds = float(seconds_text)
        if not math.isfinite(seconds):
            raise ValueError(seconds_text)
        received_at = datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise _corrupt(path, offset, f"{problem} (its time is not UNIX seconds)") from None
    if not length_text.isdigit() or int(length_text) > MAX_CHUNK_BYTES:
        raise _corrupt(
            path,
            offset,
            f"{problem} (its byte count is not a whole number up to {MAX_CHUNK_BYTES})",
        )
    return received_at, int(length_text)


def _corrupt(path: Path, offset: int, problem: str) -> RecordingCorrupt:
    return RecordingCorrupt(
        f"{path}: byte {offset}: {problem}: the recording is damaged there; to replay "
        f"the chunks before it, cut a copy at that byte (head -c {offset})"
    )


def _warn_cut_off(path: Path, offset: int, unread_bytes: int) -> None:
    logger.warning(
        "%s: byte %d: the recording ends inside a chunk (its writer stopped mid-write): "
        "the last %d bytes were not replayed",
        path,
        offset,
        unread_bytes,
    )
