"""Rings are defined once (`RingRule`): the AMI tracker and the SIP ring-test caller
count the same ringing as the same number of rings, right at a ring boundary.

At the GB cadence (3 s a ring) 21.0 s is exactly seven rings; one microsecond
more is into the eighth, so outside a seven-ring standard.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ami_listener.lines import LineDirectory, MonitoredLine
from ami_listener.message import AmiMessage
from ami_listener.tracker import CallTracker
from ringtest.core.records import AnsweredBy, CallRecord, RingTestOutcome
from ringtest.core.standards import RING_CADENCE_SECONDS, RingRule, Standards
from ringtest.sip.timeline import SipTimeline, measure

GB = RingRule(seconds_per_ring=RING_CADENCE_SECONDS["GB"], answer_within_rings=7)
RINGING_STARTS = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
BOUNDARY_CASES = [(21.0, 7, True), (21.000001, 8, False)]


def event(name: str, at: datetime, **headers: str) -> AmiMessage:
    stamp = f"{at.timestamp():.6f}"
    return AmiMessage((("Event", name), ("Timestamp", stamp), *headers.items()))


def tracked_call(ring_seconds: float) -> CallRecord:
    """A person answering after `ring_seconds` of ringing, as the tracker measures it."""
    tracker = CallTracker(
        "lab", LineDirectory([MonitoredLine("2001", "Council Tax")]), Standards(ring_rule=GB)
    )
    answered = RINGING_STARTS + timedelta(seconds=ring_seconds)
    caller = {"Uniqueid": "1.1", "Linkedid": "1.1"}
    staff = {"Uniqueid": "1.2", "Linkedid": "1.1", "Channel": "PJSIP/staff1-00000002"}
    messages = [
        event("Newchannel", RINGING_STARTS, Exten="2001", CallerIDNum="01382000151", **caller),
        event("Newchannel", RINGING_STARTS, Exten="s", **staff),
        event("Newstate", RINGING_STARTS, ChannelStateDesc="Ringing", **staff),
        event("Newstate", answered, ChannelStateDesc="Up", **staff),
        event("Hangup", answered + timedelta(seconds=5), Cause="16", **staff),
        event("Hangup", answered + timedelta(seconds=5), Cause="16", **caller),
    ]
    outputs = [output for message in messages for output in tracker.feed(message, answered)]
    [call] = [output for output in outputs if isinstance(output, CallRecord)]
    return call


@pytest.mark.parametrize(("ring_seconds", "rings", "within"), BOUNDARY_CASES)
def test_the_rule_counts_the_ring_in_progress(ring_seconds, rings, within):
    assert GB.rings(ring_seconds) == rings
    assert GB.within(ring_seconds) is within


@pytest.mark.parametrize(("ring_seconds", "rings", "within"), BOUNDARY_CASES)
def test_the_tracker_counts_rings_by_the_rule(ring_seconds, rings, within):
    call = tracked_call(ring_seconds)
    assert call.answered_by is AnsweredBy.PERSON
    assert call.ring_seconds == ring_seconds
    assert (call.rings, call.within_standard) == (rings, within)


@pytest.mark.parametrize(("ring_seconds", "rings", "within"), BOUNDARY_CASES)
def test_the_sip_caller_counts_rings_by_the_rule(ring_seconds, rings, within):
    first_180 = 100.1
    timeline = SipTimeline(
        placed_at=RINGING_STARTS,
        invite_sent=100.0,
        first_180=first_180,
        answered=first_180 + ring_seconds,
    )
    measured = measure(timeline, ring_rule=GB, max_rings=10)
    assert measured.outcome is RingTestOutcome.ANSWERED
    assert (measured.rings, measured.within_standard) == (rings, within)
