"""Bytes -> AMI frames: split the manager byte stream on blank lines.

The Asterisk Manager Interface sends a one-line banner
(``Asterisk Call Manager/9.0.0\\r\\n``) and then frames: header lines ending in
CRLF, each frame closed by an empty line (``\\r\\n\\r\\n``). TCP delivers the
stream in arbitrary chunks, so `FrameBuffer` keeps the unfinished tail and only
ever hands out whole frames, as bytes. Decoding happens per whole frame (see
`ami_listener.message`), so a UTF-8 character split across two reads survives.

A frame larger than `max_frame_bytes` is skipped (counted in `oversize_frames`)
rather than buffered without bound: one runaway header must not take the
listener down or eat the host's memory.

Skipped frames (oversize ones here, and frames that turn out to be no AMI
message at all, which the reader finds when it parses them) are counted by kind
in a `SkippedFrames`, which logs one summary line at most once a minute: a PBX
or a middlebox spraying garbage must not flood the log, and no frame's content
(a caller's number, say) is ever written to it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

log = logging.getLogger(__name__)

FRAME_END = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024

OVERSIZE = "oversize"
NOT_A_MESSAGE = "not an AMI message"
"""The kinds of skipped frame: over the size limit, or with neither an ``Event:`` nor a
``Response:`` header (lines that are not ``Key: Value``, binary junk)."""

SKIPPED_FRAMES_LOG_INTERVAL_SECONDS = 60.0


class SkippedFrames:
    """Frames skipped as garbage on one stream, by kind, logged as a rate-limited summary.

    where: names the stream in the log line (``AMI 127.0.0.1:5038``).
    by_kind: every frame skipped so far, by kind (`OVERSIZE`, `NOT_A_MESSAGE`).
    clock: monotonic seconds (injected in tests). The first skip is logged at once;
        later ones are summed and logged with the next skip that comes at least
        `log_interval_seconds` after the previous line.
    """

    def __init__(
        self,
        where: str,
        clock: Callable[[], float] = time.monotonic,
        log_interval_seconds: float = SKIPPED_FRAMES_LOG_INTERVAL_SECONDS,
    ) -> None:
        self.where = where
        self.clock = clock
        self.log_interval_seconds = log_interval_seconds
        self.by_kind: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self._logged_at: float | None = None

    @property
    def total(self) -> int:
        """Frames skipped so far, of every kind."""
        return self.by_kind.total()

    def skipped(self, kind: str, count: int = 1) -> None:
        """`count` frames of `kind` were skipped: count them; log the summary when due."""
        self.by_kind[kind] += count
        self._unlogged[kind] += count
        now = self.clock()
        if self._logged_at is not None and now - self._logged_at < self.log_interval_seconds:
            return
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(self._unlogged.items()))
        since = "" if self._logged_at is None else f" in the last {now - self._logged_at:.0f} s"
        log.warning(
            "%s: skipped %d garbage frames%s (%s); %d since the stream opened",
            self.where,
            self._unlogged.total(),
            since,
            kinds,
            self.total,
        )
        self._unlogged.clear()
        self._logged_at = now


class FrameBuffer:
    """Accumulates stream chunks and yields complete AMI frames (without the blank line).

    banner: the banner line once seen (decoded), else None.
    oversize_frames: how many frames this buffer skipped for exceeding `max_frame_bytes`.
    skipped: where frames over `max_frame_bytes` are counted (a new `SkippedFrames` for
        an anonymous stream unless the owner passes its own, which may outlive the buffer).
    """

    def __init__(
        self,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        skipped: SkippedFrames | None = None,
    ) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.banner: str | None = None
        self.skipped = skipped if skipped is not None else SkippedFrames("AMI stream")
        self.oversize_frames = 0
        self._pending = bytearray()
        self._skipping = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add one chunk from the socket; return the frames it completed, in order."""
        if self.banner is None:
            self._pending += chunk
            if not self._take_banner():
                return []
            chunk, self._pending = bytes(self._pending), bytearray()
        if self._pending:
            if not self._completes_a_frame(chunk):
                self._pending += chunk
                self._bound_unfinished_frame()
                return []
            chunk = bytes(self._pending) + chunk
        frames = chunk.split(FRAME_END)
        self._pending = bytearray(frames.pop())
        if self._skipping and frames:
            self._skipping = False
            del frames[0]
        limit = self.max_frame_bytes
        if frames and (min(map(len, frames)) == 0 or max(map(len, frames)) > limit):
            self._skip_oversize(sum(len(frame) > limit for frame in frames))
            frames = [frame for frame in frames if 0 < len(frame) <= limit]
        self._bound_unfinished_frame()
        return frames

    def _completes_a_frame(self, chunk: bytes) -> bool:
        """True when `chunk` ends a frame (alone, or with the unfinished frame's last
        bytes). Otherwise it is only appended, so a frame that trickles in byte by byte
        costs time in proportion to its size, not to its square."""
        keep = len(FRAME_END) - 1
        return FRAME_END in chunk or FRAME_END in bytes(self._pending[-keep:]) + chunk[:keep]

    def _take_banner(self) -> bool:
        """Consume the banner line if the stream starts with one; True once settled."""
        if len(self._pending) < len(BANNER_PREFIX):
            if BANNER_PREFIX.startswith(bytes(self._pending)):
                return False
            self.banner = ""
            return True
        if not self._pending.startswith(BANNER_PREFIX):
            self.banner = ""
            return True
        line_end = self._pending.find(b"\r\n")
        if line_end == -1:
            return False
        self.banner = self._pending[:line_end].decode("utf-8", errors="replace")
        del self._pending[: line_end + 2]
        return True

    def _bound_unfinished_frame(self) -> None:
        """Drop an unfinished frame that has already outgrown the limit; skip to its end."""
        if len(self._pending) <= self.max_frame_bytes:
            return
        if not self._skipping:
            self._skip_oversize(1)
            self._skipping = True
        keep = len(FRAME_END) - 1
        del self._pending[:-keep]

    def _skip_oversize(self, count: int) -> None:
        """`count` frames over the limit were dropped (counted here and in `skipped`)."""
        if count:
            self.oversize_frames += count
            self.skipped.skipped(OVERSIZE, count)
