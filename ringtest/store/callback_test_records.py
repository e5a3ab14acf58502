"""The stored side of a callback test: a ring test that left a message asking to be
called back, open until the line calls back or its deadline passes.

Open callback tests live in the store, not in memory, so a restart between the
missed call and the callback loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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
