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
"""

from __future__ import annotations

FRAME_END = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024


class FrameBuffer:
    """Accumulates stream chunks and yields complete AMI frames (without the blank line).

    banner: the banner line once seen (decoded), else None.
    oversize_frames: how many frames were skipped for exceeding `max_frame_bytes`.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.banner: str | None = None
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
            chunk = bytes(self._pending) + chunk
        frames = chunk.split(FRAME_END)
        self._pending = bytearray(frames.pop())
        if self._skipping and frames:
            self._skipping = False
            del frames[0]
        limit = self.max_frame_bytes
        if frames and (min(map(len, frames)) == 0 or max(map(len, frames)) > limit):
            self.oversize_frames += sum(len(frame) > limit for frame in frames)
            frames = [frame for frame in frames if 0 < len(frame) <= limit]
        self._bound_unfinished_frame()
        return frames

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
            self.oversize_frames += 1
            self._skipping = True
        keep = len(FRAME_END) - 1
        del self._pending[:-keep]
