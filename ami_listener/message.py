"""AMI frames -> messages: decode one whole frame into ordered headers.

A frame is lines of ``Key: Value``. Keys may repeat (``ChanVariable``,
``Variable``) so headers are kept as an ordered list, and `get` returns the
first value while `get_all` returns every one. A line without ``": "`` is not a
header; it is kept in `malformed_lines` instead of being silently dropped or
raising, so a listener can count it and carry on.

Times: with ``timestampevents = yes`` in manager.conf every event (except the
login ``FullyBooted``) carries ``Timestamp: 1732312345.123456``, the PBX's own
clock in seconds since the epoch. `server_time` turns it into an aware UTC
datetime; the caller falls back to its receive time when it is absent. A value
that is no number, or no instant of this century (``1e20``, ``inf``, ``nan``, a
PBX clock reset to 1970), is unreadable: `server_time_of` gives None for it too,
and the tracker counts it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_EVENT_LINE = b"Event: "
_ACTION_ID_LINE = re.compile(rb"^actionid:", re.IGNORECASE | re.MULTILINE)
"""An ``ActionID:`` header line anywhere in a frame (header names are case-insensitive)."""

EARLIEST_SERVER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_SERVER_TIME = datetime(2100, 1, 1, tzinfo=UTC)
"""A ``Timestamp:`` outside [`EARLIEST_SERVER_TIME`, `LATEST_SERVER_TIME`) is unreadable."""
_EARLIEST_SECONDS = EARLIEST_SERVER_TIME.timestamp()
_LATEST_SECONDS = LATEST_SERVER_TIME.timestamp()


class AmiMessage:
    """One AMI frame: an Event, a Response, or anything else the PBX sent.

    A message made by `parse_frame` keeps its frame's bytes and is decoded and
    split into headers only when a header is first asked for; `event` peeks at
    the first line. About half of a PBX's events are ones the tracker ignores
    (``VarSet``), and those are never parsed. Immutable once made.
    """

    __slots__ = ("_frame", "_event", "_headers", "_malformed", "_first_values")

    def __init__(
        self, headers: tuple[tuple[str, str], ...], malformed_lines: tuple[str, ...] = ()
    ) -> None:
        self._frame: bytes | None = None
        self._event: str | None = None
        self._headers: tuple[tuple[str, str], ...] | None = tuple(headers)
        self._malformed: tuple[str, ...] = tuple(malformed_lines)
        self._first_values: dict[str, str] | None = None

    @classmethod
    def from_frame(cls, frame: bytes) -> AmiMessage:
        """A message for one whole frame, parsed on first use."""
        message = cls.__new__(cls)
        message._frame = frame
        message._event = None
        message._headers = None
        message._malformed = ()
        message._first_values = None
        return message

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """Every ``(name, value)`` in order, repeats kept."""
        if self._headers is None:
            self._parse()
        return self._headers  # type: ignore[return-value]

    @property
    def malformed_lines(self) -> tuple[str, ...]:
        """Lines that were not ``Key: Value`` headers, kept rather than dropped."""
        if self._headers is None:
            self._parse()
        return self._malformed

    @property
    def parsed(self) -> bool:
        """True once the frame has been split into headers (always, for a built message)."""
        return self._headers is not None

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of header `key` (case-insensitive), or `default`."""
        first_values = self._first_values
        if first_values is None:
            first_values = self._first_values = {
                name.lower(): value for name, value in reversed(self.headers)
            }
        return first_values.get(key.lower(), default)

    def get_all(self, key: str) -> list[str]:
        """Every value of header `key` (case-insensitive), in order."""
        wanted = key.lower()
        return [value for name, value in self.headers if name.lower() == wanted]

    @property
    def event(self) -> str | None:
        """The event name (``Newstate``, ``DialEnd``...), None for responses."""
        if self._event is None:
            frame = self._frame
            if frame is not None and frame.startswith(_EVENT_LINE):
                line_end = frame.find(b"\r\n")
                name = frame[len(_EVENT_LINE) : line_end if line_end != -1 else len(frame)]
                self._event = name.decode("utf-8", errors="replace")
            else:
                self._event = self.get("Event")
        return self._event

    @property
    def response(self) -> str | None:
        """``Success``/``Error``/``Follows``/``Goodbye`` for responses, None for events."""
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        """The ActionID echoed back by the PBX, if any. Asked of every message while an
        action waits for its answer, so a frame without the header is not parsed."""
        frame = self._frame
        if self._headers is None and frame is not None and not _ACTION_ID_LINE.search(frame):
            return None
        return self.get("ActionID")

    def server_time(self) -> datetime | None:
        """The PBX's ``Timestamp:`` header as an aware UTC datetime, None when absent or bad."""
        raw = self.get("Timestamp")
        return None if raw is None else server_time_of(raw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AmiMessage):
            return NotImplemented
        return (self.headers, self.malformed_lines) == (other.headers, other.malformed_lines)

    def __hash__(self) -> int:
        return hash((self.headers, self.malformed_lines))

    def __repr__(self) -> str:
        return f"AmiMessage(headers={self.headers!r}, malformed_lines={self.malformed_lines!r})"

    def _parse(self) -> None:
        assert self._frame is not None
        headers: list[tuple[str, str]] = []
        malformed: list[str] = []
        for line in self._frame.decode("utf-8", errors="replace").split("\r\n"):
            name, sep, value = line.partition(": ")
            if sep:
                headers.append((name, value))
            elif line.endswith(":"):
                headers.append((line[:-1], ""))
            elif line:
                malformed.append(line)
        self._headers = tuple(headers)
        self._malformed = tuple(malformed)


def server_time_of(timestamp: str) -> datetime | None:
    """A ``Timestamp:`` value (seconds since the epoch) as an aware UTC datetime; None when
    it is no number or outside [`EARLIEST_SERVER_TIME`, `LATEST_SERVER_TIME`)."""
    try:
        seconds = float(timestamp)
    except ValueError:
        return None
    if not _EARLIEST_SECONDS <= seconds < _LATEST_SECONDS:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_frame(frame: bytes) -> AmiMessage:
    """Decode one whole frame (UTF-8, bad bytes replaced) into an `AmiMessage` (lazily)."""
    return AmiMessage.from_frame(frame)


def encode_action(action: str, **fields: str) -> bytes:
    """Encode a manager action (``Action: Login``...) as one frame, CRLF-terminated."""
    lines = [f"Action: {action}"] + [f"{key}: {value}" for key, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
