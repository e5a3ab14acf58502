"""Missed calls -> callback obligations: who is owed a call back, and when it was paid.

Pure: finished call records and instants in, changed obligations out.

* A call to a monitored line that no person answered (abandoned, voicemail,
  busy, failed) opens one obligation for its caller, due at
  `Standards.callback_deadline(missed_at)`. Ring-test calls and callers
  without a number (withheld, anonymous) open none.
* The first later call from the PBX to that number (a `DialledCall`) closes
  every open obligation of that caller as ``called_back``: the attempt counts,
  and whether it connected is kept separately.
* A later inbound call from the same caller that a person answers closes them
  as ``caller_got_through``.
* `on_time(now)` marks obligations past their deadline ``overdue``; an overdue
  obligation can still be closed, late, until `GIVE_UP_AFTER` past its deadline,
  when it is closed for good as ``not_called_back`` and forgotten (so the ledger
  of a daemon that runs for years stays bounded).

Latency is `working_seconds` from the miss to the closing call's start, under
the configured working calendar.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from ringtest.core.records import (
    AnsweredBy,
    CallbackObligation,
    CallbackStatus,
    CallOutcome,
    CallRecord,
    DialledCall,
)
from ringtest.core.standards import Standards, normalise_number

GIVE_UP_AFTER = timedelta(days=30)
"""How long past its deadline an unreturned missed call stays owed before it is closed
as ``not_called_back``."""

MISSED_OUTCOMES = frozenset(
    {CallOutcome.ABANDONED, CallOutcome.VOICEMAIL, CallOutcome.BUSY, CallOutcome.FAILED}
)
STILL_OWED = frozenset({CallbackStatus.OPEN, CallbackStatus.OVERDUE})


class CallbackLedger:
    """The open callback obligations, keyed by the caller's E.164 number."""

    def __init__(self, standards: Standards, owed: Iterable[CallbackObligation] = ()) -> None:
        self.standards = standards
        self._owed: dict[str, list[CallbackObligation]] = defaultdict(list)
        for obligation in owed:
            if obligation.status in STILL_OWED:
                self._owed[obligation.caller].append(obligation)

    def owed(self) -> list[CallbackObligation]:
        """Every obligation still owed, oldest miss first."""
        return sorted(
            (ob for obs in self._owed.values() for ob in obs), key=lambda ob: ob.missed_at
        )

    def on_call(self, record: CallRecord | DialledCall) -> list[CallbackObligation]:
        """Apply one finished call; return the obligations it opened or closed."""
        if isinstance(record, DialledCall):
            return self._on_dialled(record)
        if record.answered_by is AnsweredBy.PERSON:
            return self._close(
                record.caller, record.started_at, record.call_id, CallbackStatus.CALLER_GOT_THROUGH
            )
        if record.outcome in MISSED_OUTCOMES and not record.is_test_call:
            return self._open(record)
        return []

    def on_time(self, now: datetime) -> list[CallbackObligation]:
        """Mark obligations past their deadline by `now` overdue, and those past it by
        `GIVE_UP_AFTER` not called back (forgetting them); return what changed."""
        changed: list[CallbackObligation] = []
        for caller in list(self._owed):
            still_owed = []
            for obligation in self._owed[caller]:
                status = _status_at(obligation, now)
                if status is not obligation.status:
                    obligation = replace(obligation, status=status)
                    changed.append(obligation)
                if status in STILL_OWED:
                    still_owed.append(obligation)
            if still_owed:
                self._owed[caller] = still_owed
            else:
                del self._owed[caller]
        return changed

    def _open(self, record: CallRecord) -> list[CallbackObligation]:
        if not record.caller.startswith("+"):
            return []
        missed_at = record.ended_at or record.started_at
        obligation = CallbackObligation(
            call_id=record.call_id,
            pbx=record.pbx,
            caller=record.caller,
            line=record.line,
            department=record.department,
            missed_at=missed_at,
            deadline_at=self.standards.callback_deadline(missed_at),
            status=CallbackStatus.OPEN,
        )
        self._owed[record.caller].append(obligation)
        return [obligation]

    def _on_dialled(self, call: DialledCall) -> list[CallbackObligation]:
        try:
            number = normalise_number(call.dialled, self.standards.default_region)
        except ValueError:
            return []
        return self._close(
            number,
            call.started_at,
            call.call_id,
            CallbackStatus.CALLED_BACK,
            connected=call.answered_at is not None,
        )

    def _close(
        self,
        caller: str,
        closed_at: datetime,
        closing_call_id: str,
        status: CallbackStatus,
        connected: bool | None = None,
    ) -> list[CallbackObligation]:
        still_owed, closed = [], []
        for obligation in self._owed.get(caller, []):
            if obligation.missed_at > closed_at:
                still_owed.append(obligation)
                continue
            closed.append(
                replace(
                    obligation,
                    status=status,
                    closed_at=closed_at,
                    closing_call_id=closing_call_id,
                    connected=connected,
                    working_seconds=self.standards.working_seconds(obligation.missed_at, closed_at),
                )
            )
        if closed:
            self._owed[caller] = still_owed
        return closed


def _status_at(obligation: CallbackObligation, now: datetime) -> CallbackStatus:
    """What an owed obligation's status is at `now`, by its deadline."""
    if now >= obligation.deadline_at + GIVE_UP_AFTER:
        return CallbackStatus.NOT_CALLED_BACK
    if now >= obligation.deadline_at:
        return CallbackStatus.OVERDUE
    return obligation.status
