"""What the live page, the JSON API and the pushed updates show: plain dicts from a `LiveBoard`.

Each view is one function of the board and `now` (aware UTC), so the page's
snapshot (`snapshot`) and each `/api/...` endpoint are the same numbers:

* `today_view`: per department, calls ringing now, the longest wait (seconds and
  rings), today's figures from the store (`analysis.live_day`), the callbacks
  owed, overdue and closest to their deadline, today's ring tests;
* `ringing_view`: each call ringing now, its rings by the `RingRule` and its state;
* `callbacks_view`: the work list (`analysis.work_list`) and the rows that left it;
* `health_view`: the listener's health (`ListenerHealth`) and whether the
  figures are whole (listener connected, no coverage gap and no incomplete call today).

No caller number appears anywhere but in the work list, and there masked unless
configured otherwise.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from ami_listener.stats import ListenerStats
from analysis.live_board import LiveBoard, ring_state
from analysis.work_list import mask_number, work_list
from ringtest.core.records import CallbackObligation, CallbackStatus
from ringtest.core.stream import CallRinging


class ListenerHealth:
    """The health of this process's listeners, one per PBX, for the page; its counts
    never go backwards.

    listeners: PBX -> its running listener's `ListenerStats`; empty when this process has
    none (the page then says the listener is not connected).
    """

    def __init__(self, *stats: ListenerStats) -> None:
        self.listeners: dict[str, ListenerStats] = {}
        self._highest: Counter[str] = Counter()
        for one in stats:
            self.watch(one)

    def watch(self, stats: ListenerStats) -> None:
        """Show the health of the listener whose stats these are (its PBX's)."""
        self.listeners[stats.pbx] = stats

    @property
    def stats(self) -> ListenerStats | None:
        """The first PBX's listener stats (the only one's, usually); None without any."""
        return next(iter(self.listeners.values()), None)

    def counts(self) -> dict[str, int]:
        """Anomalies, oversize frames and write errors so far, of every listener: each the
        highest ever read."""
        now_counts = {"anomalies": 0, "oversize_frames": 0, "write_errors": 0}
        for stats in self.listeners.values():
            now_counts["anomalies"] += sum(stats.anomalies.values())
            now_counts["oversize_frames"] += stats.oversize_frames
            now_counts["write_errors"] += stats.write_errors
        for name, value in now_counts.items():
            self._highest[name] = max(self._highest[name], value)
        return {name: self._highest[name] for name in now_counts}


def ringing_view(board: LiveBoard, now: datetime) -> list[dict[str, object]]:
    """Every call ringing now, the longest ringing first."""
    rule = board.standards.ring_rule
    rows = []
    for call in sorted(board.ringing.values(), key=lambda call: call.ring_started_at):
        rings = board.rings_now(call, now)
        rows.append(
            {
                "call_id": call.call_id,
                "pbx": call.pbx,
                "department": call.department,
                "line": call.line,
                "ring_started_at": call.ring_started_at.isoformat(),
                "ring_seconds": board.wait_seconds(call, now),
                "rings": rings,
                "state": ring_state(rule, rings),
                "is_test_call": call.is_test_call,
            }
        )
    return rows


def recent_view(board: LiveBoard) -> list[dict[str, object]]:
    """The calls answered or ended lately, newest first."""
    return [
        {
            "call_id": call.call_id,
            "department": call.department,
            "line": call.line,
            "at": call.at.isoformat(),
            "answered_by": call.answered_by,
            "rings": call.rings,
            "outcome": call.outcome,
        }
        for call in board.recent
    ]


def today_view(board: LiveBoard, now: datetime) -> list[dict[str, object]]:
    """One panel per department: ringing now, longest wait, today's figures, callbacks."""
    rule = board.standards.ring_rule
    names = list(dict.fromkeys([*board.departments, *board.day]))
    ringing_in: dict[str, list[CallRinging]] = defaultdict(list)
    for call in board.ringing.values():
        ringing_in[call.department].append(call)
    owed_in: dict[str, list[CallbackObligation]] = defaultdict(list)
    for obligation in board.owed.values():
        owed_in[obligation.department].append(obligation)
    panels = []
    for name in names:
        ringing = ringing_in.get(name, [])
        wait = max((board.wait_seconds(call, now) for call in ringing), default=None)
        owed = owed_in.get(name, [])
        closest = min((ob.deadline_at for ob in owed), default=None)
        day = board.day.get(name)
        panels.append(
            {
                "ringing": len(ringing),
                "longest_wait_seconds": wait,
                "longest_wait_rings": None if wait is None else rule.rings(wait),
                "longest_wait_state": None if wait is None else ring_state(rule, rule.rings(wait)),
                **(day.as_dict() if day is not None else {"within_standard_pct": None}),
                "department": name,
                "callbacks_owed_now": len(owed),
                "callbacks_overdue_now": sum(
                    ob.status is CallbackStatus.OVERDUE or now >= ob.deadline_at for ob in owed
                ),
                "closest_deadline_at": None if closest is None else closest.isoformat(),
            }
        )
    return panels


def pbxs_view(board: LiveBoard, now: datetime) -> list[dict[str, object]]:
    """With several PBXs, one row per PBX: ringing now, its longest wait, today's figures
    of its live calls and the callbacks it owes now (empty with one PBX: the departments
    are its figures)."""
    rule = board.standards.ring_rule
    rows = []
    for pbx, day in board.pbx_day.items():
        ringing = [call for call in board.ringing.values() if call.pbx == pbx]
        wait = max((board.wait_seconds(call, now) for call in ringing), default=None)
        owed = [ob for ob in board.owed.values() if ob.pbx == pbx]
        rows.append(
            {
                **day.as_dict(),
                "ringing": len(ringing),
                "longest_wait_rings": None if wait is None else rule.rings(wait),
                "callbacks_owed_now": len(owed),
                "callbacks_overdue_now": sum(
                    ob.status is CallbackStatus.OVERDUE or now >= ob.deadline_at for ob in owed
                ),
            }
        )
    return rows


def callbacks_view(board: LiveBoard, now: datetime, show_numbers: bool) -> dict[str, object]:
    """The work list, the nearest deadline first, and the rows that left it lately."""
    region = board.standards.default_region
    rows = work_list(board.owed.values(), board.missed, board.standards, now, show_numbers)
    return {
        "rows": [row.as_dict() for row in rows],
        "left": [
            {
                "key": f"{left.obligation.pbx}/{left.obligation.call_id}",
                "caller": left.obligation.caller
                if show_numbers
                else mask_number(left.obligation.caller, region),
                "department": left.obligation.department,
                "how": left.how,
                "closed_at": None
                if left.obligation.closed_at is None
                else left.obligation.closed_at.isoformat(),
            }
            for left in board.left
        ],
    }


def health_view(health: ListenerHealth, board: LiveBoard, now: datetime) -> dict[str, object]:
    """The listeners' links, last event age, clock offset and counts (the worst of every
    PBX's, and each PBX's under ``pbxs``), when the PBX was last seen (its latest
    heartbeat); whether the figures are whole."""
    pbxs = [_pbx_health(pbx, stats, now) for pbx, stats in health.listeners.items()]
    disconnected = [str(pbx["pbx"]) for pbx in pbxs if not pbx["connected"]]
    not_connected = "listener not connected" + (
        f" to {', '.join(disconnected)}" if len(pbxs) > 1 else ""
    )
    incomplete = sum(day.counts.get("incomplete", 0) for day in board.day.values())
    reasons = [
        reason
        for reason, applies in (
            (not_connected, not pbxs or bool(disconnected)),
            (f"{board.gaps_today} coverage gaps today", board.gaps_today > 0),
            (f"{incomplete} calls not fully seen today", incomplete > 0),
        )
        if applies
    ]
    first = health.stats
    ages = [
        pbx["last_event_age_seconds"] for pbx in pbxs if pbx["last_event_age_seconds"] is not None
    ]
    offsets = [
        pbx["clock_offset_seconds"] for pbx in pbxs if pbx["clock_offset_seconds"] is not None
    ]
    connected_since = None if first is None else first.connected_since
    return {
        "connected": bool(pbxs) and not disconnected,
        "connected_since": None if connected_since is None else connected_since.isoformat(),
        "last_event_age_seconds": max(ages, default=None),
        "clock_offset_seconds": max(offsets, key=abs, default=None),
        "pbx_seen_until": None if board.seen_until is None else board.seen_until.isoformat(),
        "pbxs": pbxs,
        **health.counts(),
        "figures_whole": not reasons,
        "not_whole_because": reasons,
    }


def _pbx_health(pbx: str, stats: ListenerStats, now: datetime) -> dict[str, object]:
    """One PBX's link: connected, seconds since its last event, its clock offset."""
    last_event_at = stats.last_event_at
    return {
        "pbx": pbx,
        "connected": stats.connected_since is not None,
        "last_event_age_seconds": None
        if last_event_at is None
        else max(0.0, (now - last_event_at).total_seconds()),
        "clock_offset_seconds": stats.clock_offset_seconds,
    }


def snapshot(
    board: LiveBoard, health: ListenerHealth, now: datetime, show_numbers: bool
) -> dict[str, object]:
    """Everything the page shows, as one JSON-ready dict (sent whole on every update)."""
    rule = board.standards.ring_rule
    return {
        "now": now.isoformat(),
        "standard": {
            "answer_within_rings": rule.answer_within_rings,
            "seconds_per_ring": rule.seconds_per_ring,
        },
        "departments": today_view(board, now),
        "pbxs": pbxs_view(board, now),
        "ringing": ringing_view(board, now),
        "recent": recent_view(board),
        "callbacks": callbacks_view(board, now, show_numbers),
        "health": health_view(health, board, now),
    }
