"""The callback standard: every missed call is returned within one working day."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ami_listener.obligations import CallbackLedger
from ringtest.core.calendar import WorkingCalendar
from ringtest.core.records import (
    AnsweredBy,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    DialledCall,
)
from ringtest.core.standards import Standards

LONDON = ZoneInfo("Europe/London")
CITIZEN = "+441382000100"
DUNDEE = Standards(calendar=WorkingCalendar(country="GB", subdivision="SCT"))


def local(text: str) -> datetime:
    """A Europe/London wall-clock time as an aware UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON).astimezone(UTC)


def inbound(at: datetime, outcome: CallOutcome, call_id: str = "1.1", **overrides) -> CallRecord:
    answered = outcome is CallOutcome.ANSWERED
    fields = dict(
        call_id=call_id,
        pbx="lab",
        line="2001",
        department="Council Tax",
        caller=CITIZEN,
        dialled="2001",
        started_at=at,
        ring_started_at=at,
        answered_at=at + timedelta(seconds=6) if answered else None,
        answered_by=AnsweredBy.PERSON if answered else AnsweredBy.NONE,
        ended_at=at + timedelta(seconds=30),
        ring_seconds=6.0 if answered else 30.0,
        rings=2 if answered else 10,
        outcome=outcome,
        within_standard=answered,
    )
    return CallRecord(**{**fields, **overrides})


def callback(at: datetime, answered: bool = True, call_id: str = "9.9") -> DialledCall:
    return DialledCall(
        call_id=call_id,
        pbx="lab",
        caller="+441382434099",
        dialled="01382 000100",
        started_at=at,
        answered_at=at + timedelta(seconds=5) if answered else None,
        ended_at=at + timedelta(seconds=60),
    )


def test_abandoned_call_opens_an_obligation_due_one_working_day_later():
    ledger = CallbackLedger(DUNDEE)
    [opened] = ledger.on_call(inbound(local("2026-11-24 10:00:00"), CallOutcome.ABANDONED))
    assert opened.status is CallbackStatus.OPEN
    assert opened.missed_at == local("2026-11-24 10:00:30")
    assert opened.deadline_at == local("2026-11-25 10:00:30")


def test_voicemail_counts_as_a_missed_call():
    ledger = CallbackLedger(DUNDEE)
    assert len(ledger.on_call(inbound(local("2026-11-24 10:00"), CallOutcome.VOICEMAIL))) == 1


def test_answered_call_and_ring_test_call_open_nothing():
    ledger = CallbackLedger(DUNDEE)
    assert ledger.on_call(inbound(local("2026-11-24 10:00"), CallOutcome.ANSWERED)) == []
    test_call = inbound(local("2026-11-24 10:00"), CallOutcome.ABANDONED, is_test_call=True)
    assert ledger.on_call(test_call) == []
    assert ledger.owed() == []


def test_withheld_number_cannot_be_owed_a_callback():
    ledger = CallbackLedger(DUNDEE)
    withheld = inbound(local("2026-11-24 10:00"), CallOutcome.ABANDONED, caller="anonymous")
    assert ledger.on_call(withheld) == []


def test_callback_on_monday_for_a_friday_miss_is_within_one_working_day():
    ledger = CallbackLedger(Standards())
    ledger.on_call(inbound(local("2026-11-20 15:59:30"), CallOutcome.ABANDONED))
    [closed] = ledger.on_call(callback(local("2026-11-23 10:00:00")))
    assert closed.status is CallbackStatus.CALLED_BACK
    assert closed.connected is True
    assert closed.closed_at < closed.deadline_at == local("2026-11-23 16:00:00")
    assert closed.working_seconds == 2 * 3600
    assert ledger.owed() == []


def test_st_andrews_day_is_not_a_working_day_in_dundee():
    ledger = CallbackLedger(DUNDEE)
    [opened] = ledger.on_call(inbound(local("2026-11-27 15:59:30"), CallOutcome.ABANDONED))
    assert opened.deadline_at == local("2026-12-01 16:00:00")


def test_unanswered_callback_attempt_still_closes_but_is_not_connected():
    ledger = CallbackLedger(DUNDEE)
    ledger.on_call(inbound(local("2026-11-24 10:00"), CallOutcome.BUSY))
    [closed] = ledger.on_call(callback(local("2026-11-24 11:00"), answered=False))
    assert (closed.status, closed.connected) == (CallbackStatus.CALLED_BACK, False)


def test_obligation_past_its_deadline_becomes_overdue_and_can_still_be_closed_late():
    ledger = CallbackLedger(DUNDEE)
    ledger.on_call(inbound(local("2026-11-24 10:00:00"), CallOutcome.ABANDONED))
    assert ledger.on_time(local("2026-11-25 10:00:29")) == []
    [overdue] = ledger.on_time(local("2026-11-25 10:00:30"))
    assert overdue.status is CallbackStatus.OVERDUE
    [closed] = ledger.on_call(callback(local("2026-11-26 09:30")))
    assert closed.status is CallbackStatus.CALLED_BACK
    assert closed.closed_at > closed.deadline_at
    assert closed.working_seconds == (7 + 8 + 0.5) * 3600 - 30


def test_caller_who_gets_through_first_closes_the_obligation():
    ledger = CallbackLedger(DUNDEE)
    ledger.on_call(inbound(local("2026-11-24 10:00"), CallOutcome.ABANDONED, call_id="1.1"))
    [closed] = ledger.on_call(
        inbound(local("2026-11-24 14:00"), CallOutcome.ANSWERED, call_id="2.2")
    )
    assert (closed.status, closed.closing_call_id) == (CallbackStatus.CALLER_GOT_THROUGH, "2.2")


def test_call_to_another_number_closes_nothing():
    ledger = CallbackLedger(DUNDEE)
    ledger.on_call(inbound(local("2026-11-24 10:00"), CallOutcome.ABANDONED))
    other = DialledCall(
        "9.9", "lab", "+441382434099", "+441382999999", local("2026-11-24 11:00"), None, None
    )
    assert ledger.on_call(other) == []
    assert len(ledger.owed()) == 1


def test_ledger_restored_from_stored_obligations_closes_them():
    first = CallbackLedger(DUNDEE)
    [opened] = first.on_call(inbound(local("2026-11-24 10:00"), CallOutcome.ABANDONED))
    restarted = CallbackLedger(DUNDEE, owed=[opened])
    [closed] = restarted.on_call(callback(local("2026-11-24 12:00")))
    assert closed.call_id == opened.call_id


def test_missed_call_never_returned_is_closed_as_not_called_back_a_month_after_its_deadline():
    ledger = CallbackLedger(DUNDEE)
    [opened] = ledger.on_call(inbound(local("2026-11-24 10:00:00"), CallOutcome.ABANDONED))
    assert ledger.on_time(opened.deadline_at + timedelta(days=29)) != []
    [given_up] = ledger.on_time(opened.deadline_at + timedelta(days=30))
    assert given_up.status is CallbackStatus.NOT_CALLED_BACK
    assert ledger.owed() == []
    assert ledger.on_call(callback(local("2027-01-05 10:00"))) == []
