"""What the listener needs from its PBX, checked on every AMI link: one warning line per gap.

A PBX set up by someone else can be missing something the listener depends on,
and nothing fails: the calls are simply measured worse, or not seen. Each check
names the setting in Asterisk's ``manager.conf`` that fixes it:

* **Timestamps.** Events carry ``Timestamp:`` only with ``timestampevents = yes``
  in ``[general]``. Without it every instant falls back to when ringtest read the
  event, so a busy network or a slow reader adds to the ring times.
* **The resync.** After a reconnect the listener asks ``CoreShowChannels`` for
  the calls in progress, which needs ``write = reporting``. Refused, those calls
  are never adopted: their ends are anomalies and they are not stored.
* **The read classes.** Every call to a line emits ``call`` events (Newchannel,
  Newstate, Hangup) and ``dialplan`` events (Newexten), each marked by its
  ``Privilege:`` header. `EVIDENCE_EVENTS` events of one class with none of the
  other mean that the user cannot read the other (or an ``eventfilter`` drops
  it), not chance. A link on which the PBX listed calls in progress but no event of
  either class came in `SILENT_LINK_SECONDS` cannot see calls at all.
* **The PBX's clock.** Ring times come from the PBX's ``Timestamp:``, and calls of
  several PBXs are compared, so a PBX clock more than `CLOCK_OFFSET_LIMIT_SECONDS`
  from ringtest's (NTP not running on one of them) is said once per link.

Checks run per link and stop once settled, so the hot path pays one attribute
read per event after the first few.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ami_listener.message import AmiMessage

log = logging.getLogger(__name__)

CALL_CLASSES = ("call", "dialplan")
"""Read classes every call to a line emits events of, and the tracker reads."""

EVIDENCE_EVENTS = 50
"""Events of one of `CALL_CLASSES` after which none of the other is a missing read class."""

TIMESTAMP_EVIDENCE_EVENTS = 2
"""Events after a login that all lack ``Timestamp:`` before timestampevents is called off:
an Asterisk with it on was seen sending one event without it (a lab run at login)."""

SILENT_LINK_SECONDS = 600.0
"""How long a link whose PBX listed calls in progress may go without a call event."""

CLOCK_OFFSET_LIMIT_SECONDS = 1.0
"""How far the PBX's clock may be from ringtest's before the listener says so."""

READ_CLASSES_FIX = (
    "give it read = system,call,agent,dialplan in manager.conf "
    "and let no eventfilter drop those events"
)


class LinkChecks:
    """The checks of one listener, run afresh on each link (see the module).

    address: ``host:port``, and user: the AMI user, for the warning lines.
    """

    def __init__(self, address: str, user: str) -> None:
        self.address = address
        self.user = user
        self.warnings = 0
        self._settled = True
        self._untimed_events = TIMESTAMP_EVIDENCE_EVENTS
        self._class_events: dict[str, int] = {}
        self._calls_at_login = 0
        self._opened_at: datetime | None = None
        self._clock_checked = True

    def link_opened(self, at: datetime) -> None:
        """A login succeeded at `at` (UTC): check this link from its first event."""
        self._settled = False
        self._untimed_events = 0
        self._class_events = dict.fromkeys(CALL_CLASSES, 0)
        self._calls_at_login = 0
        self._opened_at = at
        self._clock_checked = False

    def resync_answered(self, allowed: bool, calls_in_progress: int, refusal: str) -> None:
        """The PBX answered ``CoreShowChannels``: allowed or not (`refusal`: its message),
        listing `calls_in_progress` channels."""
        self._calls_at_login = calls_in_progress
        if not allowed:
            self._warn(
                "AMI user '%s' at %s may not run CoreShowChannels (%s): calls in progress at a "
                "reconnect cannot be adopted and will not be stored; give it write = reporting "
                "in manager.conf",
                self.user,
                self.address,
                refusal or "refused",
            )

    def event_received(self, message: AmiMessage, at: datetime) -> None:
        """One event of this link, received at `at` (UTC)."""
        if self._settled:
            return
        if self._untimed_events < TIMESTAMP_EVIDENCE_EVENTS:
            timed = message.get("Timestamp") is not None
            self._untimed_events = TIMESTAMP_EVIDENCE_EVENTS if timed else self._untimed_events + 1
            if self._untimed_events == TIMESTAMP_EVIDENCE_EVENTS and not timed:
                self._warn(
                    "AMI at %s sends events without Timestamp: ring times fall back to when "
                    "ringtest read each event; set timestampevents = yes in manager.conf "
                    "[general]",
                    self.address,
                )
        for name in (message.get("Privilege") or "").split(","):
            if name in self._class_events:
                self._class_events[name] += 1
        self._check_classes(at)

    def _check_classes(self, at: datetime) -> None:
        counts = self._class_events
        if all(counts.values()):
            self._settled = True
            return
        seen = [name for name, count in counts.items() if count >= EVIDENCE_EVENTS]
        unseen = [name for name, count in counts.items() if count == 0]
        if seen and unseen:
            self._settled = True
            self._warn(
                "AMI user '%s' at %s receives %s events but no %s events: calls cannot be "
                "measured; %s",
                self.user,
                self.address,
                seen[0],
                unseen[0],
                READ_CLASSES_FIX,
            )

    def check_silence(self, now: datetime) -> None:
        """Call now and then: a link that listed calls at login and has had no call event
        since `SILENT_LINK_SECONDS` cannot see calls."""
        if self._settled or self._opened_at is None or self._calls_at_login == 0:
            return
        if any(self._class_events.values()):
            return
        if now - self._opened_at >= timedelta(seconds=SILENT_LINK_SECONDS):
            self._settled = True
            self._warn(
                "AMI user '%s' at %s received no call or dialplan event in %g s although the "
                "PBX had %d channels up at login: it cannot see calls; %s",
                self.user,
                self.address,
                SILENT_LINK_SECONDS,
                self._calls_at_login,
                READ_CLASSES_FIX,
            )

    def check_clock(self, offset_seconds: float | None) -> None:
        """The PBX clock's offset from ringtest's (`ListenerStats.clock_offset_seconds`,
        positive when the PBX is ahead); said once per link when over the limit."""
        if self._clock_checked or offset_seconds is None:
            return
        if abs(offset_seconds) > CLOCK_OFFSET_LIMIT_SECONDS:
            self._clock_checked = True
            self._warn(
                "AMI at %s: the PBX's clock is %.1f s %s ringtest's: ring times are right, but "
                "times differ between the PBX, ringtest and other PBXs; run NTP (chrony) on both",
                self.address,
                abs(offset_seconds),
                "ahead of" if offset_seconds > 0 else "behind",
            )

    def _warn(self, message: str, *args: object) -> None:
        self.warnings += 1
        log.warning(message, *args)
