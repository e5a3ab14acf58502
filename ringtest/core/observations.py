"""The observation seam: live calls and ring tests as one typed record, what every metric counts.

Two sources measure how a line is answered: the AMI listener (a `CallRecord`
per live call) and the SIP test caller (a `RingTestResult` per mystery call).
Each becomes an `Observation` with the same fields, so every metric is defined
once for both and the two are shown side by side, never mixed:

* a live call is observed unless it came from our own ring-test caller IDs
  (`is_test_call`: the ring test itself is the observation of that call);
* a ring test is observed once placed (`RING_TEST_OUTCOMES`); a test that was
  never placed did not happen.

The store sums observations in SQL (`ringtest.store.observations` selects them
with these same rules, `ringtest.store.aggregates` sums them); the live view
observes records as they arrive. Instants are timezone-aware UTC; durations
are float seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ringtest.core.records import (
    AnsweredBy,
    CallOutcome,
    CallRecord,
    RingTestOutcome,
    RingTestResult,
)


class Source(StrEnum):
    """Which source measured a call: figures of the two are never added together."""

    LIVE = "live"
    RING_TEST = "ring test"


RING_TEST_OUTCOMES = {
    RingTestOutcome.ANSWERED: CallOutcome.ANSWERED,
    RingTestOutcome.NO_ANSWER_WITHIN_MAX_RINGS: CallOutcome.ABANDONED,
    RingTestOutcome.BUSY: CallOutcome.BUSY,
    RingTestOutcome.REJECTED: CallOutcome.FAILED,
    RingTestOutcome.UNREACHABLE: CallOutcome.FAILED,
    RingTestOutcome.FAILED: CallOutcome.FAILED,
}
"""A placed ring test's outcome as a call outcome: the tester hanging up after the
most rings it waits is an abandoned call. `NOT_PLACED` is absent: no observation."""

RING_TEST_OUTCOMES_BY_ANSWERER = {AnsweredBy.VOICEMAIL: CallOutcome.VOICEMAIL}
"""Who picked up a ring test, where that decides its call outcome over
`RING_TEST_OUTCOMES`: a test answered by voicemail is a `voicemail` call."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One call to a monitored line as every metric counts it.

    line: the line rung (a live call's line, a ring test's target).
    started_at: when the call started (live) or was placed (ring test), UTC.
    answered_by_person: a person picked up (voicemail and IVRs do not count).
    within_standard: a person picked up within the rings standard.
    rings: whole rings heard, None if unknown.
    ring_seconds: float, seconds of ringing heard, None if it never rang or unknown.
    """

    source: Source
    department: str
    line: str
    started_at: datetime
    outcome: CallOutcome
    answered_by_person: bool
    within_standard: bool
    rings: int | None
    ring_seconds: float | None


def observe_call(call: CallRecord) -> Observation | None:
    """A live call as an observation; None for a call from our own ring-test caller IDs."""
    if call.is_test_call:
        return None
    person = call.answered_by is AnsweredBy.PERSON
    return Observation(
        source=Source.LIVE,
        department=call.department,
        line=call.line,
        started_at=call.started_at,
        outcome=call.outcome,
        answered_by_person=person,
        within_standard=person and call.within_standard,
        rings=call.rings,
        ring_seconds=call.ring_seconds,
    )


def observe_ring_test(result: RingTestResult) -> Observation | None:
    """A placed ring test as an observation; None for a test that was never placed."""
    if result.outcome not in RING_TEST_OUTCOMES:
        return None
    person = result.answered_by is AnsweredBy.PERSON
    outcome = RING_TEST_OUTCOMES_BY_ANSWERER.get(
        result.answered_by, RING_TEST_OUTCOMES[result.outcome]
    )
    return Observation(
        source=Source.RING_TEST,
        department=result.department,
        line=result.target,
        started_at=result.placed_at,
        outcome=outcome,
        answered_by_person=person,
        within_standard=person and result.within_standard,
        rings=result.rings,
        ring_seconds=result.ring_seconds,
    )
