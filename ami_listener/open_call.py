"""One call in progress, as the tracker (`ami_listener.tracker`) knows it so far.

Pure data plus what follows from it: the state changes a live view sees while the
call is in progress and, once it is over, the seconds the caller heard ringing, the
seconds spent in an IVR, who answered and the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ami_listener.lines import MonitoredLine
from ringtest.core.records import AnsweredBy, CallOutcome
from ringtest.core.stream import CallAnswered, CallRinging

OUTCOME_BY_ANSWER = {
    AnsweredBy.PERSON: CallOutcome.ANSWERED,
    AnsweredBy.VOICEMAIL: CallOutcome.VOICEMAIL,
}
"""Who answered -> the call's outcome; a call nobody answered failed or was abandoned."""


@dataclass
class OpenCall:
    """What the tracker knows so far about one call (keyed by Linkedid).

    live_channels: Uniqueids of the call's channels not yet hung up.
    Instants are UTC datetimes (the events' server time).
    """

    call_id: str
    caller_channel: str
    caller: str
    dialled: str
    started_at: datetime
    live_channels: set[str] = field(default_factory=set)
    line: MonitoredLine | None = None
    ring_started_at: datetime | None = None
    answered_at: datetime | None = None
    answered_by: AnsweredBy = AnsweredBy.NONE
    pbx_answered_at: datetime | None = None
    voicemail_started: bool = False
    ivr_started_at: datetime | None = None
    ivr_ended_at: datetime | None = None
    failure: CallOutcome | None = None
    ended_at: datetime | None = None
    gap_note: str | None = None

    @property
    def person_answered(self) -> bool:
        return self.answered_by is AnsweredBy.PERSON

    def ringing_began(self, at: datetime) -> bool:
        """A callee (or queue) began ringing: the first one counts; it ends any IVR time.

        True when this started the ringing that counts (the first, or the first after an IVR).
        """
        started = self.ring_started_at is None or (
            self.ivr_started_at is not None and self.ring_started_at < self.ivr_started_at
        )
        if started:
            self.ring_started_at = at
        if self.ivr_started_at is not None and self.ivr_ended_at is None:
            self.ivr_ended_at = at
        return started

    def ringing(
        self, pbx: str, line: MonitoredLine, at: datetime, is_test_call: bool
    ) -> CallRinging:
        """The change "ringing on `line` started at `at`"."""
        return CallRinging(
            call_id=self.call_id,
            pbx=pbx,
            line=line.line,
            department=line.department,
            caller=self.caller,
            is_test_call=is_test_call,
            ring_started_at=at,
        )

    def answer(
        self,
        pbx: str,
        line: MonitoredLine,
        by: AnsweredBy,
        at: datetime,
        rings: Callable[[float], int],
    ) -> CallAnswered:
        """The change "`by` answered the call to `line` at `at`", with the ringing heard
        until then. rings: whole rings in seconds of ringing (the standard's cadence)."""
        ring_seconds = self.ring_seconds_until(at)
        return CallAnswered(
            call_id=self.call_id,
            pbx=pbx,
            line=line.line,
            department=line.department,
            answered_by=by,
            answered_at=at,
            ring_seconds=ring_seconds,
            rings=None if ring_seconds is None else rings(ring_seconds),
        )

    def final_answered_by(self) -> AnsweredBy:
        """Who answered: an IVR when the PBX answered into one and nobody else did."""
        if self.answered_by is AnsweredBy.NONE and self.ivr_started_at is not None:
            return AnsweredBy.IVR
        return self.answered_by

    def outcome(self) -> CallOutcome:
        """answered / voicemail by who answered, else the failure seen, else abandoned."""
        if self.answered_by in OUTCOME_BY_ANSWER:
            return OUTCOME_BY_ANSWER[self.answered_by]
        return self.failure or CallOutcome.ABANDONED

    def ring_seconds(self) -> float | None:
        """Seconds the caller heard ringing: to the answer, or to the end if unanswered."""
        stopped_at = self.answered_at or self.ended_at
        if stopped_at is None:
            return None
        return self.ring_seconds_until(stopped_at)

    def ring_seconds_until(self, at: datetime) -> float | None:
        """Seconds of ringing from its start to `at`; None when nothing rang yet."""
        if self.ring_started_at is None:
            return None
        return max(0.0, (at - self.ring_started_at).total_seconds())

    def ivr_seconds(self) -> float | None:
        """Seconds from the PBX answering into an IVR to leaving it (ringing, answer, end)."""
        if self.ivr_started_at is None:
            return None
        left_ivr_at = self.ivr_ended_at or self.answered_at or self.ended_at
        if left_ivr_at is None:
            return None
        return (left_ivr_at - self.ivr_started_at).total_seconds()


def duration_of(text: str) -> timedelta:
    """``HH:MM:SS`` (CoreShowChannel's Duration) as a timedelta; zero when unreadable."""
    try:
        hours, minutes, seconds = (int(part) for part in text.split(":"))
    except ValueError:
        return timedelta()
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)
