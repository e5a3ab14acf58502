"""AMI frames -> messages: decode one whole frame into ordered headers.

A frame is lines of ``Key: Value``. Keys may repeat (``ChanVariable``,
``Variable``) so headers are kept as an ordered list, and `get` returns the
first value while `get_all` returns every one. A line without ``": "`` is not a
header; it is kept in `malformed_lines` instead of being silently dropped or
raising, so a listener can count it and carry on.

Times: with ``timestampevents = yes`` in manager.conf every event (except the
login ``FullyBooted``) carries ``Timestamp: 1732312345.123456``, the PBX's own
clock in seconds since the epoch. `server_time` turns it into an aware UTC
datetime; the caller falls back to its receive time when it is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One decoded AMI frame: an Event, a Response, or anything else the PBX sent."""

    headers: tuple[tuple[str, str], ...]
    malformed_lines: tuple[str, ...] = field(default=())

    def get(self, key: str, default: str | None = None) -> str | None:
        """The first value of header `key` (case-insensitive), or `default`."""
        wanted = key.lower()
        for name, value in self.headers:
            if name.lower() == wanted:
                return value
        return default

    def get_all(self, key: str) -> list[str]:
        """Every value of header `key` (case-insensitive), in order."""
        wanted = key.lower()
        return [value for name, value in self.headers if name.lower() == wanted]

    @property
    def event(self) -> str | None:
        """The event name (``Newstate``, ``DialEnd``...), None for responses."""
        return self.get("Event")

    @property
    def response(self) -> str | None:
        """``Success``/``Error``/``Follows``/``Goodbye`` for responses, None for events."""
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        """The ActionID echoed back by the PBX, if any."""
        return self.get("ActionID")

    def server_time(self) -> datetime | None:
        """The PBX's ``Timestamp:`` header as an aware UTC datetime, None when absent or bad."""
        raw = self.get("Timestamp")
        if raw is None:
            return None
        try:
            return datetime.fromtimestamp(float(raw), tz=UTC)
        except (ValueError, OverflowError):
            return None


def parse_frame(frame: bytes) -> AmiMessage:
    """Decode one whole frame (UTF-8, bad bytes replaced) into an `AmiMessage`."""
    text = frame.decode("utf-8", errors="replace")
    headers: list[tuple[str, str]] = []
    malformed: list[str] = []
    for line in text.split("\r\n"):
        name, sep, value = line.partition(": ")
        if sep:
            headers.append((name, value))
        elif line.endswith(":"):
            headers.append((line[:-1], ""))
        elif line:
            malformed.append(line)
    return AmiMessage(tuple(headers), tuple(malformed))


def encode_action(action: str, **fields: str) -> bytes:
    """Encode a manager action (``Action: Login``...) as one frame, CRLF-terminated."""
    lines = [f"Action: {action}"] + [f"{key}: {value}" for key, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
