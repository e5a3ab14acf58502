"""The live listener daemon: keep one AMI session up and feed it to the call pipeline.

* Connects and logs in with the (read-only) listener user. A login refused on
  the very first attempt is raised as a one-line error: a wrong secret will not
  fix itself, and the operator is watching. A PBX that does not answer is
  retried for ever with capped exponential backoff, at start (under systemd or
  Docker the PBX is often still starting) as after any drop, one warning line
  naming host:port each time.
* Keepalive: any byte received counts as the PBX being alive. When nothing
  arrived for `ping_interval_seconds` the listener sends ``Ping``; no answer
  within `pong_timeout_seconds` closes the link (a half-open TCP connection
  otherwise looks healthy for many minutes). There is no read timeout.
* After a drop every call in progress is stored as ``incomplete`` with the gap
  noted. After every (re)connect ``CoreShowChannels`` lists the calls already
  in progress; they are tracked to their end and stored as ``incomplete``
  (their start was not seen), upserted so that no call is counted twice.
* Every chunk read is appended to the `Journal` (`ami_listener.journal`) before
  it is parsed, so what was received survives a crash and a store that falls
  behind. Asterisk does not wait for a slow reader (it logs it off), so nothing
  here ever waits for the store: the socket is read at line rate.
* What the pipeline makes of each event (calls ringing, answered, ended;
  callback obligations) goes to a `Sink`, usually a `StreamSink` publishing on
  the record stream (`ringtest.core.stream`). The store subscribes there
  (`ringtest.store.writer`) and never blocks the publisher. `UnstoredCalls`
  (``ami_listener.checkpoint``) follows which calls the store has confirmed, and
  the journal's checkpoint is advanced from it every `checkpoint_interval_seconds`.
* A link loss is dated by the last byte received, not by the moment the Ping
  watchdog noticed it.
* Gaps: every interval in which the listener did not see the PBX is published as
  a `GapObserved` once the next resync is done: from the last event (or the last
  resync, when no event came since) to that resync. Its reason is the listener
  being down (the first connect of a process, from the instant the previous run
  was last known to see the PBX, `seen_until_before_start`), the link lost, or
  the PBX restarted (``CoreStatus`` names another startup time than before).
  That instant is published as a `ListenerHeartbeat` right after each resync (so a
  listener killed within its first `heartbeat_seconds` still leaves one), every
  `heartbeat_seconds` while it moves, and once more when the listener stops, so the
  store keeps it.
* What the listener needs from the PBX (``Timestamp:`` on events, ``CoreShowChannels``,
  the ``call`` and ``dialplan`` read classes, a clock within 1 s) is checked on every
  link, each gap one warning line naming the fix (``ami_listener.link_checks``).
* One `ListenerStats` (``listener.stats``) holds the health counters of every
  connection so far; a one-line summary is logged every
  `stats_interval_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ami_listener.checkpoint import UnstoredCalls
from ami_listener.connection import AmiConnection
from ami_listener.frames import FRAME_END
from ami_listener.journal import Journal
from ami_listener.link_checks import LinkChecks
from ami_listener.message import AmiMessage
from ami_listener.pipeline import Batch, CallPipeline, Sink
from ami_listener.recording import Recorder
from ami_listener.stats import ListenerStats
from ringtest.core.errors import AmiAuthFailed, PbxUnreachable
from ringtest.core.records import CoverageGap, GapReason
from ringtest.core.stream import GapObserved, ListenerHeartbeat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListenerSettings:
    """Where and how to listen. Times in seconds."""

    host: str
    port: int
    user: str
    secret: str
    tls: bool = False
    ping_interval_seconds: float = 10.0
    pong_timeout_seconds: float = 5.0
    first_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0
    overdue_check_seconds: float = 30.0
    stats_interval_seconds: float = 300.0
    checkpoint_interval_seconds: float = 1.0
    heartbeat_seconds: float = 5.0
    link_check_seconds: float = 30.0


def in_progress_note(at: datetime) -> str:
    """The gap note of a call already in progress when the listener connected at `at`."""
    return f"in progress when the listener connected at {at.isoformat()}"


class Listener:
    """Runs one PBX link until `stop` is set.

    journal: where every chunk is appended before it is parsed (None: nowhere).
    unstored: the calls the store has not confirmed, from which the journal's
    checkpoint advances (None: the checkpoint stays where it is).
    last_byte_at: UTC receive time of the latest chunk; None before the first.
    """

    def __init__(
        self,
        settings: ListenerSettings,
        pipeline: CallPipeline,
        sink: Sink,
        recorder: Recorder | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        journal: Journal | None = None,
        unstored: UnstoredCalls | None = None,
        seen_until_before_start: datetime | None = None,
    ) -> None:
        """seen_until_before_start: the latest instant (UTC) a previous run is known to
        have seen this PBX (the store's `listener_state`); None when none ever did."""
        self.settings = settings
        self.pipeline = pipeline
        self.sink = sink
        self.recorder = recorder
        self.clock = clock
        self.journal = journal
        self.unstored = unstored
        self.stats = ListenerStats(pipeline)
        self.address = f"{settings.host}:{settings.port}"
        self.checks = LinkChecks(self.address, settings.user)
        self.last_byte_at: datetime | None = None
        self._link_position = 0
        self._frame_position = 0
        self._at_frame_end = True
        self._blind_since = seen_until_before_start
        self._blind_reason = GapReason.LISTENER_DOWN
        self._resynced_at: datetime | None = None
        self._pbx_started: str | None = None
        self._heartbeat_sent: datetime | None = None

    @property
    def connects(self) -> int:
        """Successful logins so far."""
        return self.stats.connects

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop` is set; reconnect after any drop. Logs the stats meanwhile."""
        chores = [
            asyncio.create_task(self._log_stats()),
            asyncio.create_task(self._send_heartbeats()),
            asyncio.create_task(self._check_link()),
        ]
        if self.journal is not None and self.unstored is not None:
            chores.append(asyncio.create_task(self._keep_checkpoint()))
        try:
            await self._run_links(stop)
        finally:
            for chore in chores:
                chore.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await chore
            self._send_heartbeat()
            self.advance_checkpoint()

    def advance_checkpoint(self) -> None:
        """Move the journal's checkpoint up to the first call the store has not confirmed."""
        if self.journal is None or self.unstored is None:
            return
        self.unstored.keep_only({call.call_id for call in self.pipeline.tracker.open_calls()})
        next_frame = self.journal.end if self._at_frame_end else self._frame_position
        self.journal.advance_checkpoint(self.unstored.checkpoint(next_frame))

    async def _run_links(self, stop: asyncio.Event) -> None:
        backoff = self.settings.first_backoff_seconds
        lost_at: datetime | None = None
        while not stop.is_set():
            connection = AmiConnection(
                self.settings.host,
                self.settings.port,
                self._on_event,
                self._on_bytes,
                tls=ssl.create_default_context() if self.settings.tls else None,
            )
            self._link_began()
            try:
                await self._open(connection)
            except (PbxUnreachable, AmiAuthFailed) as error:
                if isinstance(error, AmiAuthFailed) and self.connects == 0:
                    raise
                log.warning("%s; retrying in %g s", error, backoff)
                await _wait(stop, backoff)
                backoff = min(backoff * 2, self.settings.max_backoff_seconds)
                continue
            self.stats.link_opened(connection)
            self.checks.link_opened(self.clock())
            backoff = self.settings.first_backoff_seconds
            if lost_at is not None:
                log.warning("AMI link to %s restored (down since %s)", self.address, lost_at)
            await self._resync(connection)
            await self._close_gap(connection)
            await self._serve(connection, stop)
            connection.close()
            self.stats.link_closed()
            self._open_gap(GapReason.LINK_LOST)
            if not stop.is_set():
                lost_at = self._blind_since or self.clock()
                note = f"AMI link to {self.address} lost at {lost_at.isoformat()}"
                log.warning("%s: calls in progress will be stored as incomplete", note)
                self._publish(self.pipeline.link_lost(note))
        stopped_at = self.clock().isoformat()
        self._publish(self.pipeline.link_lost(f"listener stopped at {stopped_at}"))

    def _link_began(self) -> None:
        """Mark a link boundary in the journal; frames start afresh there."""
        if self.journal is not None:
            self._link_position = self.journal.append(self.clock(), b"")
        self._at_frame_end = True

    async def _open(self, connection: AmiConnection) -> None:
        await connection.connect()
        await connection.login(self.settings.user, self.settings.secret)
        log.info("listening to %s (%s)", self.address, connection.banner)

    async def _resync(self, connection: AmiConnection) -> None:
        """Adopt the calls already in progress, so their ends are not anomalies."""
        reply = await connection.action("CoreShowChannels", timeout_seconds=10.0)
        self.checks.resync_answered(reply.ok, len(reply.events), reply.response.get("Message", ""))
        now = self.clock()
        for channel in reply.events:
            self.pipeline.tracker.adopt_in_flight(channel, now, note=in_progress_note(now))
            if self.unstored is not None:
                self.unstored.call_began(channel.get("Linkedid", ""), self._link_position)

    # Gaps: when the listener did not see the PBX, and the heartbeat that bounds them.

    def _seen_until(self) -> datetime | None:
        """The latest instant the PBX is known to have been seen: when it sent its last
        event, or the last resync when no event came since."""
        last_event = self.stats.last_event_sent_at
        known = [at for at in (last_event, self._resynced_at) if at is not None]
        return max(known, default=None)

    def _open_gap(self, reason: GapReason) -> None:
        """The link is gone: the listener is blind from the last instant it saw the PBX."""
        self._blind_since = self._seen_until()
        self._blind_reason = reason

    async def _close_gap(self, connection: AmiConnection) -> None:
        """A resync is done: publish the gap it ends, if the listener was blind before it."""
        resynced_at = self.clock()
        started = await self._pbx_startup(connection)
        known_before = self._pbx_started
        restarted = started is not None and known_before is not None and started != known_before
        self._pbx_started = started or self._pbx_started
        self._resynced_at = resynced_at
        since, self._blind_since = self._blind_since, None
        self._send_heartbeat()
        if since is None or since >= resynced_at:
            return
        reason = GapReason.PBX_RESTARTED if restarted else self._blind_reason
        gap = CoverageGap(self.pipeline.tracker.pbx, since, resynced_at, reason)
        log.warning(
            "AMI %s: calls from %s to %s were not seen (%s)",
            self.address,
            since.isoformat(),
            resynced_at.isoformat(),
            reason.value,
        )
        self.sink.write(Batch([GapObserved(gap)]))

    async def _pbx_startup(self, connection: AmiConnection) -> str | None:
        """When the PBX last started, as ``CoreStatus`` says it (date and time on the PBX's
        own clock); None when it does not say (an older PBX, or a user without the
        ``reporting`` write class)."""
        try:
            reply = await connection.action("CoreStatus", timeout_seconds=5.0)
        except PbxUnreachable:
            return None
        date = reply.response.get("CoreStartupDate", "")
        time = reply.response.get("CoreStartupTime", "")
        return f"{date} {time}" if reply.ok and date and time else None

    async def _send_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            self._send_heartbeat()

    def _send_heartbeat(self) -> None:
        """Publish when the PBX was last seen, if that moved since the last heartbeat."""
        seen_until = self._seen_until()
        if seen_until is None or seen_until == self._heartbeat_sent:
            return
        self._heartbeat_sent = seen_until
        self.sink.write(Batch([ListenerHeartbeat(self.pipeline.tracker.pbx, seen_until)]))

    async def _serve(self, connection: AmiConnection, stop: asyncio.Event) -> None:
        """Run until the link is lost or `stop` is set, pinging when the link is quiet."""
        keepalive = asyncio.create_task(self._keepalive(connection))
        overdue = asyncio.create_task(self._check_overdue())
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait(
                {keepalive, stopped, connection.lost, overdue},
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (keepalive, overdue, stopped):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if keepalive.done() and not keepalive.cancelled() and keepalive.exception():
                log.warning("%s", keepalive.exception())

    async def _keepalive(self, connection: AmiConnection) -> None:
        """Return (closing the link) when a Ping goes unanswered after a quiet spell."""
        seen = connection.bytes_received
        while True:
            await asyncio.sleep(self.settings.ping_interval_seconds)
            if connection.bytes_received != seen:
                seen = connection.bytes_received
                continue
            try:
                await connection.action("Ping", timeout_seconds=self.settings.pong_timeout_seconds)
            except PbxUnreachable:
                log.warning(
                    "AMI at %s did not answer Ping within %g s: reconnecting",
                    self.address,
                    self.settings.pong_timeout_seconds,
                )
                connection.close()
                return
            seen = connection.bytes_received

    async def _check_overdue(self) -> None:
        while True:
            await asyncio.sleep(self.settings.overdue_check_seconds)
            self._publish(self.pipeline.tick(self.clock()))

    async def _check_link(self) -> None:
        while True:
            await asyncio.sleep(self.settings.link_check_seconds)
            self.checks.check_silence(self.clock())
            self.checks.check_clock(self.stats.clock_offset_seconds)

    async def _keep_checkpoint(self) -> None:
        while True:
            await asyncio.sleep(self.settings.checkpoint_interval_seconds)
            self.advance_checkpoint()

    async def _log_stats(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stats_interval_seconds)
            log.info("AMI %s: %s", self.address, self.stats.summary())

    def _on_event(self, message: AmiMessage) -> None:
        received_at = self.clock()
        self.stats.event_received(message, received_at)
        self.checks.event_received(message, received_at)
        if self.unstored is None:
            self.sink.write(self.pipeline.feed_message(message, received_at))
            return
        calls_before = self.pipeline.tracker.open_call_count
        batch = self.pipeline.feed_message(message, received_at)
        calls_after = self.pipeline.tracker.open_call_count
        self.unstored.after_event(message, batch, calls_before, calls_after, self._frame_position)
        self.sink.write(batch)

    def _publish(self, batch: Batch) -> None:
        """Hand `batch` (not the result of one event) to the sink."""
        if self.unstored is not None:
            self.unstored.handed_to_store(batch, self._frame_position)
        self.sink.write(batch)

    def _on_bytes(self, chunk: bytes) -> None:
        """Journal the chunk before it is parsed; remember where its first frame began."""
        received_at = self.clock()
        self.last_byte_at = received_at
        if self.journal is not None:
            position = self.journal.append(received_at, chunk)
            if self._at_frame_end:
                self._frame_position = position
            self._at_frame_end = chunk.endswith(FRAME_END)
        if self.recorder is not None:
            self.recorder.write(received_at, chunk)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
