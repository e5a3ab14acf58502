"""Counting the callbacks still owed, per department and line, as of an instant."""

from __future__ import annotations

from datetime import timedelta

from ringtest.core.records import CallbackStatus
from ringtest.store import Store
from ringtest.store.owed_callbacks import OwedCallbacks, owed_callbacks
from tests.store.builders import MONDAY_9AM, obligation

NOON = MONDAY_9AM + timedelta(hours=3)


def owed(call_id: str, department: str, line: str, deadline_hours: float, status=None):
    return obligation(
        call_id=call_id,
        department=department,
        line=line,
        deadline_at=MONDAY_9AM + timedelta(hours=deadline_hours),
        status=status or CallbackStatus.OPEN,
        closed_at=None,
        closing_call_id=None,
        connected=None,
        working_seconds=None,
    )


def test_owed_callbacks_count_open_and_overdue_by_their_deadline_per_line(store: Store):
    for record in (
        owed("1", "housing", "2001", deadline_hours=1),
        owed("2", "housing", "2001", deadline_hours=3),
        owed("3", "housing", "2001", deadline_hours=5),
        owed("4", "housing", "2002", deadline_hours=2, status=CallbackStatus.OVERDUE),
        owed("5", "benefits", "benefits", deadline_hours=8),
    ):
        store.save_obligation(record)

    assert owed_callbacks(store, NOON) == [
        OwedCallbacks("town-hall", "benefits", "benefits", owed=1, overdue=0),
        OwedCallbacks("town-hall", "housing", "2001", owed=3, overdue=2),
        OwedCallbacks("town-hall", "housing", "2002", owed=1, overdue=1),
    ]


def test_closed_obligations_are_owed_no_longer(store: Store):
    store.save_obligation(obligation(department="housing", status=CallbackStatus.CALLED_BACK))
    store.save_obligation(owed("2", "housing", "2001", 1, status=CallbackStatus.CALLER_GOT_THROUGH))
    store.save_obligation(owed("3", "housing", "2001", 1, status=CallbackStatus.NOT_CALLED_BACK))

    assert owed_callbacks(store, NOON) == []
