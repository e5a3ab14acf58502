"""One listener's health in one place, kept across reconnects: `ListenerStats`.

The counts live where the work is done: the pipeline counts messages, the
tracker counts anomalies by kind and knows its open calls, each AMI connection
counts its handler errors, oversize frames and garbage frames (no AMI message),
a store writer counts failed writes. `ListenerStats` reads them when asked (a
Prometheus collector's way: nothing is copied on the hot path) and adds up what
the connections that are already closed counted, so no number goes back to zero
when the link is reopened. It also keeps what only the listener sees: how often
it connected, when the last event arrived and how far the PBX's clock is from ours.

`summary()` is the one line the listener logs every few minutes; `as_dict()`
is the same numbers for other code (a status page, the live view).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from ami_listener.connection import AmiConnection
from ami_listener.message import AmiMessage
from ami_listener.pipeline import CallPipeline

CLOCK_SAMPLE_INTERVAL = timedelta(seconds=1)
"""How often the PBX clock offset is measured (it reads one event's ``Timestamp:``)."""


class CountsWriteErrors(Protocol):
    """A sink that counts its failed writes (e.g. `ringtest.store.writer.StoreWriter`)."""

    write_errors: int


class ListenerStats:
    """The health counters of one listener, for its whole life (all its connections).

    connects: successful logins so far.
    connected_since: UTC time (our clock) of the current link's login; None while
        disconnected.
    last_event_at: UTC receive time of the latest event; None before the first.
    clock_offset_seconds: the PBX's event ``Timestamp:`` minus our receive time, in
        seconds: the largest of this link's samples (taken at most once per
        `CLOCK_SAMPLE_INTERVAL`), since an event read late (a frozen or busy reader)
        only makes a sample smaller; positive when the PBX clock is ahead. None until
        measured.
    """

    def __init__(self, pipeline: CallPipeline) -> None:
        self.pipeline = pipeline
        self.connects = 0
        self.connected_since: datetime | None = None
        self.last_event_at: datetime | None = None
        self.clock_offset_seconds: float | None = None
        self._link: AmiConnection | None = None
        self._closed_links_handler_errors = 0
        self._closed_links_oversize_frames = 0
        self._closed_links_garbage_frames = 0
        self._writers: list[CountsWriteErrors] = []
        self._next_clock_sample_at = datetime.min.replace(tzinfo=UTC)
        self._last_event: AmiMessage | None = None

    @property
    def pbx(self) -> str:
        """The label of the PBX this listener listens to."""
        return self.pipeline.tracker.pbx

    def link_opened(self, connection: AmiConnection) -> None:
        """A login succeeded on `connection`: count it and read its counters from now on.
        The clock offset is measured afresh on each link."""
        self.connects += 1
        self._link = connection
        self.connected_since = datetime.now(UTC)
        self.clock_offset_seconds = None
        self._next_clock_sample_at = datetime.min.replace(tzinfo=UTC)

    def link_closed(self) -> None:
        """The current connection is gone: keep what it counted."""
        self.connected_since = None
        if self._link is None:
            return
        self._closed_links_handler_errors += self._link.handler_errors
        self._closed_links_oversize_frames += self._link.oversize_frames
        self._closed_links_garbage_frames += self._link.garbage_frames
        self._link = None

    def watch_writer(self, writer: CountsWriteErrors) -> None:
        """Count `writer`'s failed writes as this listener's write errors."""
        self._writers.append(writer)

    def event_received(self, message: AmiMessage, received_at: datetime) -> None:
        """An event arrived at `received_at` (UTC); sample the PBX clock offset now and then."""
        self.last_event_at = received_at
        self._last_event = message
        if received_at < self._next_clock_sample_at:
            return
        self._next_clock_sample_at = received_at + CLOCK_SAMPLE_INTERVAL
        server_time = message.server_time()
        if server_time is not None:
            sample = (server_time - received_at).total_seconds()
            if self.clock_offset_seconds is None or sample > self.clock_offset_seconds:
                self.clock_offset_seconds = sample

    @property
    def last_event_sent_at(self) -> datetime | None:
        """When the PBX sent the latest event, on our clock: its ``Timestamp:`` less the
        clock offset, never later than its receive time. A reader frozen while Asterisk
        gave up on it reads the last events late; this is when the PBX was last seen.
        The receive time when the event has no Timestamp or no offset is known yet."""
        if self._last_event is None or self.clock_offset_seconds is None:
            return self.last_event_at
        server_time = self._last_event.server_time()
        if server_time is None or self.last_event_at is None:
            return self.last_event_at
        return min(self.last_event_at, server_time - timedelta(seconds=self.clock_offset_seconds))

    @property
    def connected(self) -> bool:
        """Whether a link to the PBX is logged in now."""
        return self._link is not None

    @property
    def messages(self) -> int:
        """AMI messages fed to the tracker."""
        return self.pipeline.counters.messages

    @property
    def anomalies(self) -> dict[str, int]:
        """Events that did not fit a call, by kind."""
        return dict(self.pipeline.tracker.anomalies)

    @property
    def open_calls(self) -> int:
        """Calls in progress now."""
        return self.pipeline.tracker.open_call_count

    @property
    def handler_errors(self) -> int:
        """Events whose handling raised (each logged), on every connection so far."""
        current = self._link.handler_errors if self._link is not None else 0
        return self._closed_links_handler_errors + current

    @property
    def oversize_frames(self) -> int:
        """Frames skipped for exceeding the frame size limit, on every connection so far."""
        current = self._link.oversize_frames if self._link is not None else 0
        return self._closed_links_oversize_frames + current

    @property
    def garbage_frames(self) -> int:
        """Frames skipped for being no AMI message, on every connection so far."""
        current = self._link.garbage_frames if self._link is not None else 0
        return self._closed_links_garbage_frames + current

    @property
    def write_errors(self) -> int:
        """Failed store writes (each retried) of the watched writers."""
        return sum(writer.write_errors for writer in self._writers)

    def as_dict(self) -> dict[str, object]:
        """Every number, for other code (times as ISO 8601 UTC strings)."""
        return {
            "messages": self.messages,
            "anomalies": self.anomalies,
            "oversize_frames": self.oversize_frames,
            "garbage_frames": self.garbage_frames,
            "handler_errors": self.handler_errors,
            "write_errors": self.write_errors,
            "open_calls": self.open_calls,
            "connects": self.connects,
            "last_event_at": None if self.last_event_at is None else self.last_event_at.isoformat(),
            "clock_offset_seconds": self.clock_offset_seconds,
        }

    def summary(self) -> str:
        """One line for the log (no caller numbers)."""
        anomalies = self.anomalies
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(anomalies.items()))
        last_event = "none" if self.last_event_at is None else self.last_event_at.isoformat()
        offset = (
            "unknown"
            if self.clock_offset_seconds is None
            else f"{self.clock_offset_seconds:+.3f} s"
        )
        return (
            f"{self.messages} messages, {sum(anomalies.values())} anomalies"
            + (f" ({kinds})" if kinds else "")
            + f", {self.garbage_frames} garbage frames"
            + f", {self.oversize_frames} oversize frames, {self.handler_errors} handler errors, "
            f"{self.write_errors} write errors, {self.open_calls} open calls, "
            f"{self.connects} connects, last event {last_event}, PBX clock offset {offset}"
        )
