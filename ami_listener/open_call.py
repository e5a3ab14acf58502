"""One call in progress, as the tracker (`ami_listener.tracker`) knows it so far.

Pure data plus what follows from it: the state changes a live view sees while the
call is in progress and, once it is over, the seconds the caller heard ringing, the
seconds spent in an IVR, who answered, the outcome and the record it is stored as.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ami_listener.lines import MonitoredLine
from ringtest.core.records import (
    AnsweredBy,
    CallOutcome,
    CallRecord,
    DialledCall,
    UnmatchedInboundCall,
)
from ringtest.core.standards import Standards
from ringtest.core.stream import CallAnswered, CallRinging, InboundCallUnmatched

OUTCOME_BY_ANSWER = {
    AnsweredBy.PERSON: CallOutcome.ANSWERED,
    AnsweredBy.VOICEMAIL: CallOutcome.VOICEMAIL,
}
"""Who answered -> the call's outcome; a call nobody answered failed or was abandoned."""

MAX_CHANNEL_AGE = timedelta(days=366)
"""The longest ``Duration`` a channel listed at a resync is believed to have been up."""


@dataclass
class OpenCall:
    """What the tracker knows so far about one call (keyed by its Linkedid, or by its
    caller's Uniqueid when the PBX sent an empty Linkedid).

    live_channels: Uniqueids of the call's channels not yet hung up.
    inbound: the caller's channel began in an inbound context (a call from the public).
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
    inbound: bool = False

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

    def unmatched(self, pbx: str) -> InboundCallUnmatched | None:
        """The change "this call from the public matched no line", when it is one."""
        if self.line is not None or not self.inbound or not self.dialled:
            return None
        return InboundCallUnmatched(
            UnmatchedInboundCall(pbx, self.call_id, self.dialled, self.started_at)
        )

    def record(
        self, pbx: str, standards: Standards, incomplete_because: str | None = None
    ) -> CallRecord | DialledCall:
        """What the call is stored as once over (or abandoned): a `CallRecord` for a
        monitored line, else a `DialledCall`. incomplete_because: why its end was not
        seen (it is then ``incomplete``); the call's own gap note when None."""
        incomplete_because = incomplete_because or self.gap_note
        if self.line is None:
            return DialledCall(
                call_id=self.call_id,
                pbx=pbx,
                caller=self.caller,
                dialled=self.dialled,
                started_at=self.started_at,
                answered_at=self.answered_at if self.person_answered else None,
                ended_at=self.ended_at,
            )
        ring_seconds = self.ring_seconds()
        ring_rule = standards.ring_rule
        return CallRecord(
            call_id=self.call_id,
            pbx=pbx,
            line=self.line.line,
            department=self.line.department,
            caller=self.caller,
            dialled=self.dialled,
            started_at=self.started_at,
            ring_started_at=self.ring_started_at,
            answered_at=self.answered_at,
            answered_by=self.final_answered_by(),
            ended_at=self.ended_at,
            ring_seconds=ring_seconds,
            rings=None if ring_seconds is None else ring_rule.rings(ring_seconds),
            outcome=CallOutcome.INCOMPLETE if incomplete_because else self.outcome(),
            within_standard=(
                self.person_answered and ring_seconds is not None and ring_rule.within(ring_seconds)
            ),
            is_test_call=standards.is_test_caller(self.caller),
            ivr_seconds=self.ivr_seconds(),
            gap_note=incomplete_because,
        )


def duration_of(text: str) -> timedelta | None:
    """``HH:MM:SS`` (CoreShowChannel's Duration) as a timedelta; None when it is unreadable,
    negative or longer than `MAX_CHANNEL_AGE`."""
    try:
        hours, minutes, seconds = (int(part) for part in text.split(":"))
        duration = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except (ValueError, OverflowError):
        return None
    if min(hours, minutes, seconds) < 0 or duration > MAX_CHANNEL_AGE:
        return None
    return duration
