"""What the listener needs from a PBX nobody configured for it, checked on every link:
`ami_listener.link_checks.LinkChecks`, fed events as Asterisk 22 frames them.
(The lab test `test_live_link_checks.py` does the same against the real Asterisk.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from ami_listener.link_checks import (
    EVIDENCE_EVENTS,
    SILENT_LINK_SECONDS,
    TIMESTAMP_EVIDENCE_EVENTS,
    LinkChecks,
)
from ami_listener.message import parse_frame

OPENED_AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def event(name: str, privilege: str, timestamp: bool = True):
    stamp = "Timestamp: 1796374800.123456\r\n" if timestamp else ""
    return parse_frame(
        f"Event: {name}\r\nPrivilege: {privilege},all\r\n{stamp}Linkedid: 1.1\r\n\r\n".encode()
    )


@pytest.fixture
def checks(caplog) -> LinkChecks:
    caplog.set_level(logging.WARNING, logger="ami_listener.link_checks")
    link = LinkChecks("pbx.council.example:5038", "ringtest")
    link.link_opened(OPENED_AT)
    return link


def warnings(caplog) -> list[str]:
    return [record.getMessage() for record in caplog.records]


def test_a_pbx_that_sends_both_call_classes_with_timestamps_raises_nothing(checks, caplog):
    checks.resync_answered(True, 3, "")
    for _ in range(EVIDENCE_EVENTS):
        checks.event_received(event("Newchannel", "call"), OPENED_AT)
        checks.event_received(event("Newexten", "dialplan"), OPENED_AT)
    checks.check_silence(OPENED_AT + timedelta(hours=1))
    assert warnings(caplog) == []


def test_events_without_timestamp_mean_timestampevents_is_off(checks, caplog):
    checks.event_received(event("FullyBooted", "system", timestamp=False), OPENED_AT)
    checks.event_received(event("Newchannel", "call", timestamp=False), OPENED_AT)
    assert warnings(caplog) == [
        "AMI at pbx.council.example:5038 sends events without Timestamp: ring times fall back "
        "to when ringtest read each event; set timestampevents = yes in manager.conf [general]"
    ]


def test_one_event_without_timestamp_among_timestamped_ones_is_no_warning(checks, caplog):
    checks.event_received(event("FullyBooted", "system", timestamp=False), OPENED_AT)
    checks.event_received(event("Newchannel", "call"), OPENED_AT)
    checks.event_received(event("Newexten", "dialplan", timestamp=False), OPENED_AT)
    assert warnings(caplog) == []


def test_a_refused_core_show_channels_means_no_resync_after_a_drop(checks, caplog):
    checks.resync_answered(False, 0, "Permission denied")
    assert warnings(caplog) == [
        "AMI user 'ringtest' at pbx.council.example:5038 may not run CoreShowChannels "
        "(Permission denied): calls in progress at a reconnect cannot be adopted and will not "
        "be stored; give it write = reporting in manager.conf"
    ]


def test_call_events_without_dialplan_events_mean_a_missing_read_class(checks, caplog):
    for _ in range(EVIDENCE_EVENTS - 1):
        checks.event_received(event("Newstate", "call"), OPENED_AT)
    assert warnings(caplog) == [], "too few events to tell a missing class from chance"
    for _ in range(EVIDENCE_EVENTS):
        checks.event_received(event("Newstate", "call"), OPENED_AT)
    assert warnings(caplog) == [
        "AMI user 'ringtest' at pbx.council.example:5038 receives call events but no dialplan "
        "events: calls cannot be measured; give it read = system,call,agent,dialplan in "
        "manager.conf and let no eventfilter drop those events"
    ]


def test_calls_up_at_login_and_no_call_event_for_ten_minutes_mean_the_user_sees_no_calls(
    checks, caplog
):
    checks.resync_answered(True, 4, "")
    checks.event_received(event("FullyBooted", "system"), OPENED_AT)
    checks.check_silence(OPENED_AT + timedelta(seconds=SILENT_LINK_SECONDS - 1))
    assert warnings(caplog) == []
    checks.check_silence(OPENED_AT + timedelta(seconds=SILENT_LINK_SECONDS))
    checks.check_silence(OPENED_AT + timedelta(seconds=SILENT_LINK_SECONDS * 2))
    assert warnings(caplog) == [
        "AMI user 'ringtest' at pbx.council.example:5038 received no call or dialplan event in "
        "600 s although the PBX had 4 channels up at login: it cannot see calls; give it "
        "read = system,call,agent,dialplan in manager.conf and let no eventfilter drop those "
        "events"
    ]


def test_a_quiet_pbx_with_no_calls_at_login_is_not_suspected(checks, caplog):
    checks.resync_answered(True, 0, "")
    checks.check_silence(OPENED_AT + timedelta(hours=8))
    assert warnings(caplog) == []


def test_each_link_is_checked_afresh(checks, caplog):
    untimed = [event("Newchannel", "call", timestamp=False)] * TIMESTAMP_EVIDENCE_EVENTS
    for message in untimed:
        checks.event_received(message, OPENED_AT)
    checks.link_opened(OPENED_AT + timedelta(minutes=1))
    for message in untimed:
        checks.event_received(message, OPENED_AT)
    assert len(warnings(caplog)) == 2
    assert checks.warnings == 2


def test_a_pbx_clock_more_than_a_second_off_is_said_once_per_link(checks, caplog):
    checks.check_clock(None)
    checks.check_clock(0.8)
    assert warnings(caplog) == []
    checks.check_clock(-2.46)
    checks.check_clock(-2.5)
    assert warnings(caplog) == [
        "AMI at pbx.council.example:5038: the PBX's clock is 2.5 s behind ringtest's: ring "
        "times are right, but times differ between the PBX, ringtest and other PBXs; run NTP "
        "(chrony) on both"
    ]
