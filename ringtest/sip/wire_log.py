"""The monotonic marks of one outgoing call's SIP messages, kept apart from the Call.

`WireLog` is filled in on the endpoint thread and is what a calling thread may hold
(never the pjsua2 Call itself, whose last reference the endpoint must own). In a
callback test it also carries the hand-over in the middle of the call: `recorded`
resolves when the greeting has been recorded, and `decide` is a weak reference to
the call's decision method (``decide()(leave_message)``, on the endpoint thread).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta

from ringtest.sip.timeline import SipTimeline


class WireLog:
    """The monotonic marks of one call's SIP messages, filled in on the endpoint thread."""

    def __init__(self) -> None:
        self.recorded: Future[None] = Future()
        self.decide: Callable[[], Callable[[bool], None] | None] = lambda: None
        self.placed_at = datetime.now(UTC)
        self.dialled = time.monotonic()
        self.marks: dict[str, float] = {}
        self.first_183_had_sdp = False
        self.final_code: int | None = None
        self.final_reason = ""
        self.caller_hung_up = False
        self.transport_error = False

    def dialling(self) -> None:
        """Anchor UTC and monotonic time together just before the INVITE goes out."""
        self.placed_at = datetime.now(UTC)
        self.dialled = time.monotonic()

    def is_ringing(self) -> bool:
        return any(key in self.marks for key in ("first_180", "first_183", "first_early_media"))

    def timeline(self) -> SipTimeline:
        """What happened so far, as a frozen timeline."""
        invite_sent = self.marks.get("invite_sent", self.dialled)
        return SipTimeline(
            placed_at=self.placed_at + timedelta(seconds=invite_sent - self.dialled),
            invite_sent=invite_sent,
            first_100=self.marks.get("first_100"),
            first_180=self.marks.get("first_180"),
            first_183=self.marks.get("first_183"),
            first_183_had_sdp=self.first_183_had_sdp,
            first_early_media=self.marks.get("first_early_media"),
            answered=self.marks.get("answered"),
            ended=self.marks.get("ended"),
            final_code=self.final_code,
            final_reason=self.final_reason,
            caller_hung_up=self.caller_hung_up,
            transport_error=self.transport_error,
            message_played=self.marks.get("message_played"),
            recording_started=self.marks.get("recording_started"),
            keys_sent=self.marks.get("keys_sent"),
        )
