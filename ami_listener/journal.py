"""The listener's journal: every AMI byte received, on local disk before it is processed.

Asterisk does not wait for a slow reader: after its write timeout it logs the
listener off. So the listener never waits for the store; it appends each socket
read here first, in the ``--record`` format (`ami_listener.recording`), and a
store that falls behind or fails only delays writes. What the store has not
confirmed is replayed from here at the next start.

Positions. A journal position is a byte count along the whole journal: each
segment file is named by the position of its first byte
(``<name>.<position, 20 digits>.ami``), and a chunk's position is its segment's
plus the offset of its header in the file. A new segment is begun at each start
of the listener and when the current one reaches `segment_bytes`.

Link boundaries. Before each connection attempt the listener appends a chunk of
zero bytes (which ``ringtest replay`` skips). The first chunk of a segment is
such a mark only when a listener process began that segment, so a replay can
tell "the link was lost here" from "the listener stopped here".

Checkpoint. The listener keeps the position before which every call is stored
(`ami_listener.checkpoint`) and hands it to `advance_checkpoint`, which writes it
to ``<name>.checkpoint`` (atomically) and deletes the segments wholly before it.
The journal is bounded: past `max_bytes` in all, the oldest segments are
deleted even when the checkpoint has not passed them, and that loss is logged
as an error. A failed append (disk full) is counted in `failed_chunks` and
logged at most once a minute; the listener keeps reading, and `durable` turns
False for good.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ami_listener.recording import MAGIC, MAX_CHUNK_BYTES, RecordingCorrupt, recorded_chunks
from ringtest.core.errors import RingtestError
from ringtest.core.private_files import create_private_file, file_mode, make_private_directory

log = logging.getLogger(__name__)

SEGMENT_BYTES = 16 * 1024 * 1024
"""Bytes after which the journal goes on in a new segment file."""

MAX_JOURNAL_BYTES = 1024 * 1024 * 1024
"""Default bound on all segments together, in bytes."""

FAILURE_LOG_SECONDS = 60.0
"""Monotonic seconds between two error lines about failing appends."""


class JournalError(RingtestError):
    """The journal cannot be opened, or something received could not be made durable."""


@dataclass(frozen=True, slots=True)
class JournalChunk:
    """One chunk read back: its position, receive time (UTC) and bytes.

    begins_segment: the first chunk of its segment (a zero-byte one there marks a
    listener start).
    """

    position: int
    received_at: datetime
    data: bytes
    begins_segment: bool


@dataclass(frozen=True, slots=True)
class _Segment:
    start: int
    path: Path

    @property
    def end(self) -> int:
        return self.start + self.path.stat().st_size


class Journal:
    """An append-only, rotated and bounded journal of AMI chunks named `name` in `directory`.

    checkpoint: the position before which every call is stored (0 for a new journal).
    end: the position just after the last chunk.
    failed_chunks, failed_bytes: appends that could not be written (each counted).
    """

    def __init__(
        self,
        directory: Path,
        name: str,
        *,
        max_bytes: int = MAX_JOURNAL_BYTES,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self.directory = directory
        self.name = re.sub(r"[^A-Za-z0-9_-]", "_", name)
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.failed_chunks = 0
        self.failed_bytes = 0
        self._next_failure_log_at = 0.0
        self._file: int | None = None
        self._segment: _Segment | None = None
        try:
            make_private_directory(directory)
        except OSError as error:
            raise JournalError(
                f"cannot create the AMI journal directory {directory} ({error.strerror}): "
                "make it writable or set ami.journal_dir to a writable directory"
            ) from None
        self._checkpoint_path = directory / f"{self.name}.checkpoint"
        self.checkpoint = self._read_checkpoint()
        segments = self._segments()
        self.end = max(self.checkpoint, segments[-1].end if segments else 0)

    @property
    def durable(self) -> bool:
        """True while every chunk handed to `append` reached the journal file."""
        return self.failed_chunks == 0

    def append(self, received_at: datetime, chunk: bytes) -> int:
        """Write one chunk received at `received_at` (UTC); return its position.

        A zero-byte chunk marks a link boundary. A chunk over `MAX_CHUNK_BYTES` is
        written as several.
        """
        positions = [
            self._append_one(received_at, chunk[start : start + MAX_CHUNK_BYTES])
            for start in range(0, max(len(chunk), 1), MAX_CHUNK_BYTES)
        ]
        return positions[0]

    def chunks_from(self, position: int) -> Iterator[JournalChunk]:
        """Every chunk at or after `position`, in order (a damaged segment is logged and
        skipped from its damage on)."""
        for segment in self._segments():
            if segment.end <= position or segment == self._segment:
                continue
            yield from _segment_chunks(segment, position)

    def advance_checkpoint(self, position: int) -> None:
        """Every call before `position` is stored: persist it and delete what it passed."""
        if position <= self.checkpoint:
            return
        self.checkpoint = position
        temporary = self._checkpoint_path.with_suffix(".checkpoint-new")
        try:
            create_private_file(temporary)
            temporary.write_text(f"{position}\n")
            os.replace(temporary, self._checkpoint_path)
        except OSError as error:
            log.warning("cannot write the journal checkpoint %s: %s", self._checkpoint_path, error)
        self._delete_passed_segments()

    def close(self) -> None:
        """Close the segment being written (idempotent)."""
        if self._file is not None:
            os.close(self._file)
            self._file = None

    def _append_one(self, received_at: datetime, chunk: bytes) -> int:
        """Write one record; return its position (the journal's end when it failed)."""
        record = f"{received_at.timestamp():.6f} {len(chunk)}\n".encode() + chunk + b"\n"
        position = self.end
        try:
            if self._file is None or (chunk and self._current_size() >= self.segment_bytes):
                self._begin_segment()
            assert self._file is not None
            position = self.end
            written = os.write(self._file, record)
            self.end += written
            if written < len(record):
                raise OSError(28, os.strerror(28))
        except OSError as error:
            self._failed(len(chunk), error)
        return position

    def _current_size(self) -> int:
        assert self._segment is not None
        return self.end - self._segment.start

    def _begin_segment(self) -> None:
        """Close the current segment and start the next at the journal's end."""
        if self._segment is not None:
            self.end = self._segment.end
        self.close()
        path = self.directory / f"{self.name}.{self.end:020d}.ami"
        self._file = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, file_mode())
        self._segment = _Segment(self.end, path)
        self.end += os.write(self._file, MAGIC)
        self._delete_passed_segments()

    def _failed(self, chunk_bytes: int, error: OSError) -> None:
        """An append failed: count it, log it now and then, and write the next one to a
        new segment (this one may end in a torn chunk)."""
        self.failed_chunks += 1
        self.failed_bytes += chunk_bytes
        self.close()
        if time.monotonic() >= self._next_failure_log_at:
            self._next_failure_log_at = time.monotonic() + FAILURE_LOG_SECONDS
            log.error(
                "cannot write the AMI journal in %s (%s): %d chunks (%d bytes) received are "
                "not durable so far: free space there or set ami.journal_dir elsewhere",
                self.directory,
                error.strerror or error,
                self.failed_chunks,
                self.failed_bytes,
            )

    def _segments(self) -> list[_Segment]:
        """The segment files, oldest first."""
        segments = []
        for path in self.directory.glob(f"{self.name}.*.ami"):
            start = path.name.removeprefix(f"{self.name}.").removesuffix(".ami")
            if start.isdigit():
                segments.append(_Segment(int(start), path))
        return sorted(segments, key=lambda segment: segment.start)

    def _delete_passed_segments(self) -> None:
        """Delete the closed segments before the checkpoint, then the oldest past the cap."""
        closed = [segment for segment in self._segments() if segment != self._segment]
        total = sum(segment.end - segment.start for segment in closed)
        total += self._current_size() if self._segment is not None else 0
        for segment in closed:
            passed = segment.end <= self.checkpoint
            if not passed and total <= self.max_bytes:
                return
            size = segment.end - segment.start
            segment.path.unlink(missing_ok=True)
            total -= size
            if not passed:
                log.error(
                    "AMI journal over its %d MB bound: deleted %s before every call in it was "
                    "stored: fix the store, or raise ami.journal_max_megabytes",
                    self.max_bytes // (1024 * 1024),
                    segment.path,
                )

    def _read_checkpoint(self) -> int:
        try:
            text = self._checkpoint_path.read_text().strip()
        except FileNotFoundError:
            return 0
        except OSError as error:
            log.warning(
                "cannot read %s (%s): replaying the whole journal", self._checkpoint_path, error
            )
            return 0
        if not text.isdigit():
            log.warning(
                "%s does not hold a position: replaying the whole journal", self._checkpoint_path
            )
            return 0
        return int(text)


def _segment_chunks(segment: _Segment, position: int) -> Iterator[JournalChunk]:
    """The chunks of one segment at or after `position`."""
    with segment.path.open("rb") as stream:
        if stream.read(len(MAGIC)) != MAGIC:
            log.error("%s is not an AMI journal segment: skipped", segment.path)
            return
        first = True
        try:
            for offset, received_at, data in recorded_chunks(stream, segment.path):
                if segment.start + offset >= position:
                    yield JournalChunk(segment.start + offset, received_at, data, first)
                first = False
        except RecordingCorrupt as error:
            log.error("%s (the rest of this journal segment is skipped)", error)
