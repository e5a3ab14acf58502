"""The measurement seam: the frozen records that every source emits and every sink reads.

Two sources measure calls:

* the AMI listener watches live traffic on a PBX and emits a `CallRecord` per
  inbound call to a monitored line (and a `CallbackObligation` per missed call);
* the SIP test caller places mystery calls and emits a `RingTestResult` per test.

Two more kinds of record are the domain's too, kept by the store: a
`CallbackTest` (a ring test that left a message asking to be called back) and
a `Campaign` with its planned `RunSlot`s.

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
    ivr_keys: for a line answered by a menu, the keys pressed (``w2 1``); None otherwise.
        Then `within_standard` is about the rings after the last key, not `rings`.
    ivr_seconds: float, time in the menu: 200 OK to the last keys sent.
    ring_seconds_after_ivr: float, ringback tone heard after the last key until the
        answer (or until we hung up); rings_after_ivr: those in whole rings.
    to_person_seconds: float, INVITE sent to a person answering after the keys.
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
    ivr_keys: str | None = None
    ivr_seconds: float | None = None
    ring_seconds_after_ivr: float | None = None
    rings_after_ivr: int | None = None
    to_person_seconds: float | None = None


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


# Callback tests: ring tests that left a message asking to be called back.


class CallbackTestStatus(StrEnum):
    """Where one callback test stands."""

    OPEN = "open"
    CALLED_BACK = "called_back"
    NOT_CALLED_BACK = "not_called_back"


class CallbackMatch(StrEnum):
    """How an inbound call was matched to its callback test, most certain first."""

    DID = "did"
    LINE_CALLER_ID = "line_caller_id"
    OLDEST_OPEN = "oldest_open"


@dataclass(frozen=True, slots=True)
class CallbackTest:
    """One ring test that asked the line to call back.

    test_id: the ring test's `RingTestResult.test_id`.
    account: the SIP account that waits for the callback.
    target: the line called, as requested. callback_number: the number left in the
        message (a DID of the account's pool, or its caller ID).
    left_at: when (UTC) the message was left; the callback clock starts here.
    deadline_at: when (UTC) the callback standard is breached.
    closed_at: when (UTC) the callback came, or the test was closed past its deadline.
    caller: the caller ID the callback came from. matched_by: how it was matched.
    working_seconds: float, working-time latency from left_at to closed_at.
    within_deadline: the callback came by deadline_at (None while open).
    """

    test_id: str
    account: str
    target: str
    department: str
    callback_number: str
    reference: str
    left_at: datetime
    deadline_at: datetime
    status: CallbackTestStatus = CallbackTestStatus.OPEN
    closed_at: datetime | None = None
    caller: str | None = None
    matched_by: CallbackMatch | None = None
    working_seconds: float | None = None
    within_deadline: bool | None = None


# Campaigns: a definition's provenance and its planned run slots.


class RunStatus(StrEnum):
    """Where one planned ring test of a campaign stands."""

    PLANNED = "planned"
    PLACED = "placed"
    DONE = "done"
    NOT_PLACED = "not_placed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign as loaded from its definition file.

    source_sha256: hex SHA-256 of the definition file's bytes when last loaded.
    created_at / updated_at: UTC instants of the first and the latest save.
    definition: the validated campaign as JSON (`ringtest.campaigns.model`), with
        its windows and calendar resolved: everything its plan depends on.
    """

    name: str
    source_path: str
    source_sha256: str
    paused: bool
    created_at: datetime
    updated_at: datetime
    definition: str = ""


@dataclass(frozen=True, slots=True)
class RunSlot:
    """One ring test a campaign plans to place at `planned_at` (UTC) to `target`.

    test_id: the `RingTestResult.test_id` once the test was placed.
    reason: why the slot was not placed or failed; empty otherwise.
    callback: the test asks for a call back when no person answers.
    started_at: when (UTC) the slot was claimed to place its test; None until then.
    """

    campaign: str
    target: str
    planned_at: datetime
    status: RunStatus = RunStatus.PLANNED
    test_id: str | None = None
    reason: str = ""
    callback: bool = False
    started_at: datetime | None = None


# Coverage: the intervals in which the listener did not see its PBX.


class GapReason(StrEnum):
    """Why the listener did not see its PBX for a while."""

    LISTENER_DOWN = "listener_down"
    LINK_LOST = "link_lost"
    PBX_RESTARTED = "pbx_restarted"


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """An interval [started_at, ended_at) (UTC) in which calls on `pbx` may have gone unseen.

    started_at: the last instant the listener is known to have been connected (its
        last event, or its last resync when no event came since).
    ended_at: when the listener had resynchronised with the PBX again.
    """

    pbx: str
    started_at: datetime
    ended_at: datetime
    reason: GapReason


@dataclass(frozen=True, slots=True)
class GapFill:
    """What the PBX's own history added to the `CoverageGap` of (pbx, gap_started_at).

    source: the history file's name (``Master.csv``). filled_at: UTC, the latest
    pass that read it. calls_imported: calls that started inside the gap, stored
    from it (the listener never saw them). calls_upgraded: ``incomplete`` calls of
    the listener that it completed (their outcome and end). passes_over: whether its
    passes are over; a fill not over when the daemon stopped is resumed at its next start.
    """

    pbx: str
    gap_started_at: datetime
    source: str
    filled_at: datetime
    calls_imported: int
    calls_upgraded: int
    passes_over: bool = False


# Lines: inbound calls that no configured line matched.


@dataclass(frozen=True, slots=True)
class UnmatchedInboundCall:
    """A call from the public (it began in an inbound dialplan context) whose dialled number
    or extension matched no `[[lines]]` entry: most likely a council line not configured.

    dialled: what the caller's channel dialled, as the trunk delivered it (a council
        number, never the caller's). started_at: UTC.
    """

    pbx: str
    call_id: str
    dialled: str
    started_at: datetime


# The greeting audit: what a ring test's answerer said.


class Heard(StrEnum):
    """Whether the greeting audit heard something said: `UNSURE` when it could not tell
    (no speech, or a phrase outside the recogniser's dictionary)."""

    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


@dataclass(frozen=True, slots=True)
class GreetingAudit:
    """What the answerer of ring test `test_id` said in the first seconds, transcribed
    offline, and the two judgements of the standard's "clearly announce our name and
    greet the caller courteously".

    transcript: the recogniser's words ("" when none). announced_name: whether one of
    the line's `announce` phrases was said. greeted: whether a greeting phrase was
    said. audited_at: UTC.
    """

    test_id: str
    transcript: str
    announced_name: Heard
    greeted: Heard
    audited_at: datetime
