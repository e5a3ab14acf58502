"""Records with every field set, for the store tests; override what a test is about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    Campaign,
    RingTestOutcome,
    RingTestResult,
)

MONDAY_9AM = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def call_record(**overrides: Any) -> CallRecord:
    """A person-answered call with every field set; override what the test is about."""
    fields: dict[str, Any] = {
        "call_id": "1741000000.1",
        "pbx": "town-hall",
        "line": "switchboard",
        "department": "reception",
        "caller": "+441632960001",
        "dialled": "+441632960100",
        "started_at": MONDAY_9AM,
        "ring_started_at": MONDAY_9AM + timedelta(seconds=2.5),
        "answered_at": MONDAY_9AM + timedelta(seconds=14.25),
        "answered_by": AnsweredBy.PERSON,
        "ended_at": MONDAY_9AM + timedelta(minutes=3, microseconds=125),
        "ring_seconds": 11.75,
        "rings": 2,
        "outcome": CallOutcome.ANSWERED,
        "within_standard": True,
        "is_test_call": True,
        "ivr_seconds": 4.5,
        "gap_note": "AMI reconnected at 09:01",
    }
    return CallRecord(**(fields | overrides))


def ring_test_result(**overrides: Any) -> RingTestResult:
    """An answered ring test of a campaign with every field set."""
    fields: dict[str, Any] = {
        "test_id": "rt-0001",
        "target": "+441632960100",
        "account": "tester-1",
        "department": "reception",
        "placed_at": MONDAY_9AM,
        "outcome": RingTestOutcome.ANSWERED,
        "answered_by": AnsweredBy.PERSON,
        "pdd_seconds": 0.75,
        "ring_seconds": 9.5,
        "tta_seconds": 10.25,
        "rings": 2,
        "within_standard": True,
        "sip_code": 200,
        "reason": "OK",
        "campaign": "spring",
        "callback_requested": True,
        "evidence_path": "/var/lib/ringtest/evidence/rt-0001.wav",
    }
    return RingTestResult(**(fields | overrides))


def obligation(**overrides: Any) -> CallbackObligation:
    """A closed (called back) obligation with every field set."""
    fields: dict[str, Any] = {
        "call_id": "1741000000.7",
        "pbx": "town-hall",
        "caller": "+441632960001",
        "line": "switchboard",
        "department": "reception",
        "missed_at": MONDAY_9AM,
        "deadline_at": MONDAY_9AM + timedelta(hours=4),
        "status": CallbackStatus.CALLED_BACK,
        "closed_at": MONDAY_9AM + timedelta(hours=1),
        "closing_call_id": "1741003600.2",
        "connected": False,
        "working_seconds": 3600.5,
    }
    return CallbackObligation(**(fields | overrides))


def campaign(**overrides: Any) -> Campaign:
    """A running campaign loaded from its file."""
    fields: dict[str, Any] = {
        "name": "spring",
        "source_path": "/etc/ringtest/campaigns/spring.yaml",
        "source_sha256": "ab" * 32,
        "paused": False,
        "created_at": MONDAY_9AM,
        "updated_at": MONDAY_9AM,
    }
    return Campaign(**(fields | overrides))
