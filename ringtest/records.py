"""The measurement seam: the frozen records that every source emits and every sink reads.

Two sources measure calls:

* the AMI listener watches live traffic on a PBX and emits a `CallRecord` per
  inbound call to a monitored line (and a `CallbackObligation` per missed call);
* the SIP test caller places mystery calls and emits a `RingTestResult` per test.

Storage, live metrics and reports only ever read these records. All instants are
timezone-aware UTC `datetime`s; all durations are `float` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AnsweredBy(StrEnum):
    """Who picked up. Only `PERSON` counts as answering a standard."""

    PERSON = "person"
    VOICEMAIL = "voicemail"
    IVR = "ivr"
    UNSURE = "unsure"
    NONE = "none"


class CallOutcome(StrEnum):
    """How a live inbound call ended, as seen by the AMI listener."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    BUSY = "busy"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


class RingTestOutcome(StrEnum):
    """How a ring test ended. `NOT_PLACED` means the test never happened."""

    ANSWERED = "answered"
    NO_ANSWER_WITHIN_MAX_RINGS = "no_answer_within_max_rings"
    BUSY = "busy"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    FAILED = "failed"
    NOT_PLACED = "not_placed"


class CallbackStatus(StrEnum):
    """Where a callback obligation (opened by a missed call) stands."""

    OPEN = "open"
    CALLED_BACK = "called_back"
    CALLER_GOT_THROUGH = "caller_got_through"
    OVERDUE = "overdue"
    NOT_CALLED_BACK = "not_called_back"


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One inbound call to a monitored line, measured from AMI events.

    call_id: the call's Linkedid on its PBX.
    started_at: when the caller's channel appeared (UTC).
    ring_started_at: when the first callee began ringing (UTC), None if none did.
    answered_at: when a person (or voicemail / IVR, see `answered_by`) answered (UTC).
    ring_seconds: float, seconds the caller heard ringing before `answered_by`
        picked up (or before the call ended unanswered); None if it never rang.
    rings: whole rings heard, by the configured cadence.
    within_standard: True when a person answered within the rings standard.
    ivr_seconds: float, seconds spent in an IVR before ringing a person.
    is_test_call: the caller is one of our own ring-test caller IDs.
    """

    call_id: str
    pbx: str
    line: str
    department: str
    caller: str
    dialled: str
    started_at: datetime
    ring_started_at: datetime | None
    answered_at: datetime | None
    answered_by: AnsweredBy
    ended_at: datetime | None
    ring_seconds: float | None
    rings: int | None
    outcome: CallOutcome
    within_standard: bool
    is_test_call: bool = False
    ivr_seconds: float | None = None
    gap_note: str | None = None


@dataclass(frozen=True, slots=True)
class RingTestResult:
    """One mystery ring test placed by the SIP test caller.

    pdd_seconds: float, post-dial delay: INVITE sent to first 180/183.
    ring_seconds: float, first 180/183 (or first ringback audio) to 200 OK,
        or to hang-up when unanswered.
    tta_seconds: float, time to answer: INVITE sent to 200 OK.
    rings: whole rings heard, by the configured cadence.
    sip_code: the final SIP status code (200, 486, 408, ...), None if none came.
    reason: the final SIP reason phrase or why the test was not placed.
    """

    test_id: str
    target: str
    account: str
    department: str
    placed_at: datetime
    outcome: RingTestOutcome
    answered_by: AnsweredBy
    pdd_seconds: float | None
    ring_seconds: float | None
    tta_seconds: float | None
    rings: int | None
    within_standard: bool
    sip_code: int | None
    reason: str
    campaign: str | None = None
    callback_requested: bool = False
    evidence_path: str | None = None


@dataclass(frozen=True, slots=True)
class CallbackObligation:
    """A missed call that someone owes a call back, and how that ended.

    missed_at: when the missed call ended (UTC); the clock starts here.
    deadline_at: when the callback standard is breached (UTC).
    closed_at: when the obligation was met (callback placed or caller got through).
    working_seconds: float, working-time latency from `missed_at` to `closed_at`.
    connected: whether the callback attempt was answered.
    """

    call_id: str
    pbx: str
    caller: str
    line: str
    department: str
    missed_at: datetime
    deadline_at: datetime
    status: CallbackStatus
    closed_at: datetime | None = None
    closing_call_id: str | None = None
    connected: bool | None = None
    working_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class DialledCall:
    """A call that was not to a monitored line, e.g. staff calling a citizen back.

    The callback ledger reads these: a call to the number of a missed caller
    closes that caller's obligation. answered_at: when a person answered (UTC),
    None if nobody did.
    """

    call_id: str
    pbx: str
    caller: str
    dialled: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
