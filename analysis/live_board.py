"""The live view's state: record-stream changes in, what is happening now out.

Theory of operation
-------------------
`LiveBoard` is a record-stream subscriber with no socket, database or clock:
`apply(changes)` folds changes in, and every reading takes `now` (aware UTC) as
an argument. It keeps only what is live:

* calls ringing now (`CallRinging` opens one, `CallAnswered` or `CallEnded`
  closes it), each counted in rings by the configured `RingRule` at `now`;
* the calls answered or ended most recently (`RECENT_CALLS_KEPT`), with the
  rings heard, so a wall screen sees a call turn answered;
* the callback obligations still owed (`ObligationChanged`: open and overdue
  ones stay, closed ones leave with how they were closed) and what each missed
  caller met (the `CallEnded` that opened it);
* the PBX's latest heartbeat (`ListenerHeartbeat`).

Today's figures (answered within standard, missed, ring tests, incomplete
calls) are not counted here: they are read from the store by the weekly
report's own functions (`analysis.live_day`) and handed in with
`set_day_figures`, so the live page and the report cannot disagree and a
restart loses nothing. `seed` restores the owed obligations after a restart.

Ring states: a ringing call is ``ok``, ``amber`` from one ring before the
standard, ``red`` past it (`ring_state`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ami_listener.obligations import STILL_OWED
from analysis.live_day import DepartmentDay, PbxDay
from ringtest.core.records import CallbackObligation, CallbackStatus, CallOutcome, CallRecord
from ringtest.core.standards import RingRule, Standards
from ringtest.core.stream import (
    CallAnswered,
    CallEnded,
    CallRinging,
    Change,
    ListenerHeartbeat,
    ObligationChanged,
)

RECENT_CALLS_KEPT = 30
"""Answered or ended calls the board remembers for the page, newest first."""

LEFT_ROWS_KEPT = 30
"""Callback rows that left the list (called back, caller got through) remembered."""

MAX_RINGING_CALLS = 10_000
"""Ringing calls kept at most; past it the oldest is dropped (a lost `CallEnded`)."""

CLOSED_HOW: Mapping[tuple[CallbackStatus, bool | None], str] = {
    (CallbackStatus.CALLED_BACK, True): "called back, connected",
    (CallbackStatus.CALLED_BACK, False): "called back, not connected",
    (CallbackStatus.CALLED_BACK, None): "called back",
    (CallbackStatus.CALLER_GOT_THROUGH, None): "caller got through",
    (CallbackStatus.NOT_CALLED_BACK, None): "not called back",
}
"""How a closed obligation left the callback list, by (status, connected)."""

CallKey = tuple[str, str]
"""(pbx, call_id): one call on one PBX."""


def ring_state(rule: RingRule, rings: int) -> str:
    """``ok``, ``amber`` (from one ring before the standard) or ``red`` (past it)."""
    if rings > rule.answer_within_rings:
        return "red"
    if rings >= rule.answer_within_rings - 1:
        return "amber"
    return "ok"


@dataclass(frozen=True, slots=True)
class MissedCall:
    """What a missed caller met: the call's outcome and the whole rings heard (None: none)."""

    outcome: CallOutcome
    rings: int | None


@dataclass(frozen=True, slots=True)
class RecentCall:
    """A call answered or ended lately. at: UTC, the answer or the end."""

    call_id: str
    department: str
    line: str
    at: datetime
    answered_by: str | None
    rings: int | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class LeftRow:
    """A callback row that left the list: `how` it was closed, at `closed_at` (UTC)."""

    obligation: CallbackObligation
    how: str


class LiveBoard:
    """What is live on the PBX now, per department, from the record stream.

    standards: the ring rule and the calendar. departments: the configured ones, each
    shown even with nothing happening.
    """

    def __init__(self, standards: Standards, departments: Sequence[str]) -> None:
        self.standards = standards
        self.departments = list(dict.fromkeys(departments))
        self.ringing: dict[CallKey, CallRinging] = {}
        self.recent: deque[RecentCall] = deque(maxlen=RECENT_CALLS_KEPT)
        self.owed: dict[CallKey, CallbackObligation] = {}
        self.missed: dict[CallKey, MissedCall] = {}
        self._ended: deque[CallKey] = deque()
        """Keys put in `missed` by calls that ended, oldest first (for forgetting them)."""
        self.left: deque[LeftRow] = deque(maxlen=LEFT_ROWS_KEPT)
        self.seen_until: datetime | None = None
        self.day: Mapping[str, DepartmentDay] = {}
        self.pbx_day: Mapping[str, PbxDay] = {}
        """Today's figures of each PBX, when there are several (empty for one)."""
        self.gaps_today = 0
        self.version = 0

    def copy(self) -> LiveBoard:
        """A copy to read from while this one goes on changing (the containers copied, the
        frozen records shared): readers render it without holding up the stream."""
        board = LiveBoard(self.standards, self.departments)
        board.ringing = dict(self.ringing)
        board.recent = self.recent.copy()
        board.owed = dict(self.owed)
        board.missed = dict(self.missed)
        board.left = self.left.copy()
        board.seen_until = self.seen_until
        board.day = self.day
        board.pbx_day = self.pbx_day
        board.gaps_today = self.gaps_today
        board.version = self.version
        return board

    def seed(self, owed: Iterable[CallbackObligation], calls: Iterable[CallRecord]) -> None:
        """Restore the obligations still owed and the missed `calls` that opened them."""
        for obligation in owed:
            if obligation.status in STILL_OWED:
                self.owed[(obligation.pbx, obligation.call_id)] = obligation
        for call in calls:
            self.missed[(call.pbx, call.call_id)] = MissedCall(call.outcome, call.rings)
        self.version += 1

    def set_day_figures(
        self,
        day: Mapping[str, DepartmentDay],
        gaps_today: int = 0,
        pbx_day: Mapping[str, PbxDay] | None = None,
    ) -> None:
        """Today's figures per department (and per PBX, when there are several) and the
        coverage gaps, as read from the store."""
        self.day = day
        self.pbx_day = pbx_day or {}
        self.gaps_today = gaps_today
        self.version += 1

    def apply(self, changes: Sequence[Change]) -> bool:
        """Fold `changes` in (a stream handler's input); True when anything shown changed."""
        changed = False
        for change in changes:
            changed |= self._apply_one(change)
        if changed:
            self.version += 1
        return changed

    def _apply_one(self, change: Change) -> bool:
        match change:
            case CallRinging():
                self._ring(change)
            case CallAnswered():
                self.ringing.pop((change.pbx, change.call_id), None)
                self.recent.appendleft(
                    RecentCall(
                        change.call_id,
                        change.department,
                        change.line,
                        change.answered_at,
                        change.answered_by.value,
                        change.rings,
                        None,
                    )
                )
            case CallEnded(record=record):
                self._end(record)
            case ObligationChanged(obligation=obligation):
                self._obligation(obligation)
            case ListenerHeartbeat(seen_until=seen_until):
                self.seen_until = seen_until
                return False
            case _:
                return False
        return True

    def _ring(self, change: CallRinging) -> None:
        self.ringing[(change.pbx, change.call_id)] = change
        if len(self.ringing) > MAX_RINGING_CALLS:
            del self.ringing[next(iter(self.ringing))]

    def _end(self, record: CallRecord) -> None:
        key = (record.pbx, record.call_id)
        self.ringing.pop(key, None)
        self.missed[key] = MissedCall(record.outcome, record.rings)
        self._ended.append(key)
        answered = next((call for call in self.recent if call.call_id == record.call_id), None)
        if answered is not None:
            self.recent.remove(answered)
        self.recent.appendleft(
            RecentCall(
                record.call_id,
                record.department,
                record.line,
                record.ended_at or record.started_at,
                record.answered_by.value,
                record.rings,
                record.outcome.value,
            )
        )
        self._forget_missed_calls()

    def _obligation(self, obligation: CallbackObligation) -> None:
        key = (obligation.pbx, obligation.call_id)
        if obligation.status in STILL_OWED:
            self.owed[key] = obligation
            return
        if self.owed.pop(key, None) is not None:
            how = CLOSED_HOW.get((obligation.status, obligation.connected), obligation.status.value)
            self.left.appendleft(LeftRow(obligation, how))
        self.missed.pop(key, None)

    def _forget_missed_calls(self) -> None:
        """Keep what callers met only for calls still owed (or just ended): bounded."""
        excess = len(self.missed) - len(self.owed) - RECENT_CALLS_KEPT
        while excess > 0 and self._ended:
            oldest = self._ended.popleft()
            if oldest in self.owed or oldest not in self.missed:
                continue
            del self.missed[oldest]
            excess -= 1

    def wait_seconds(self, call: CallRinging, now: datetime) -> float:
        """float seconds `call` has rung by `now` (UTC); 0 for a start ahead of `now` (the
        PBX's clock a little ahead of ours)."""
        return max(0.0, (now - call.ring_started_at).total_seconds())

    def rings_now(self, call: CallRinging, now: datetime) -> int:
        """Whole rings `call` has rung by `now` (UTC), the ring in progress counting."""
        return self.standards.ring_rule.rings(self.wait_seconds(call, now))

    def next_ring_at(self, now: datetime) -> datetime | None:
        """The first instant after `now` at which a ringing call's ring count goes up."""
        seconds_per_ring = self.standards.ring_rule.seconds_per_ring
        boundaries = [
            call.ring_started_at
            + timedelta(seconds=self.rings_now(call, now) * seconds_per_ring, microseconds=1)
            for call in self.ringing.values()
        ]
        return min(boundaries, default=None)
