"""LiveBoard: record-stream changes in, what is live out (no clock, no store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from analysis.live_board import RECENT_CALLS_KEPT, LiveBoard, ring_state
from analysis.live_day import DepartmentDay
from analysis.live_view import ListenerHealth, health_view, ringing_view, snapshot, today_view
from ringtest.core.records import AnsweredBy, CallbackObligation, CallbackStatus, CallOutcome
from ringtest.core.standards import RingRule, Standards
from ringtest.core.stream import (
    CallAnswered,
    CallEnded,
    CallRinging,
    ListenerHeartbeat,
    ObligationChanged,
)
from tests.store.builders import call_record

TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CALLER = "+441382000131"


def ringing(call_id: str = "1.1", department: str = "Housing", at=TUESDAY_10AM) -> CallRinging:
    return CallRinging(call_id, "lab", "2002", department, CALLER, False, at)


def answered(call_id: str = "1.1", seconds: float = 8.0) -> CallAnswered:
    return CallAnswered(
        call_id, "lab", "2002", "Housing", AnsweredBy.PERSON,
        TUESDAY_10AM + timedelta(seconds=seconds), seconds, RingRule().rings(seconds),
    )  # fmt: skip


def obligation(call_id: str = "2.1", status=CallbackStatus.OPEN, **fields) -> CallbackObligation:
    return CallbackObligation(
        call_id=call_id, pbx="lab", caller=CALLER, line="2001", department="Council Tax",
        missed_at=TUESDAY_10AM, deadline_at=TUESDAY_10AM + timedelta(days=1), status=status,
        **fields,
    )  # fmt: skip


def board() -> LiveBoard:
    return LiveBoard(Standards(), ["Housing", "Council Tax"])


def test_a_ringing_call_counts_rings_at_the_cadence_and_turns_amber_then_red():
    live = board()
    assert live.apply([ringing()])
    states = [
        (row["rings"], row["state"])
        for seconds in (0.5, 3.0, 3.1, 17.9, 21.0, 21.1)
        for row in ringing_view(live, TUESDAY_10AM + timedelta(seconds=seconds))
    ]
    assert states == [(1, "ok"), (1, "ok"), (2, "ok"), (6, "amber"), (7, "amber"), (8, "red")]


def test_ring_states_follow_the_standard():
    rule = RingRule(answer_within_rings=4)
    assert [ring_state(rule, rings) for rings in (1, 2, 3, 4, 5)] == [
        "ok", "ok", "amber", "amber", "red",
    ]  # fmt: skip


def test_the_next_ring_is_when_the_count_goes_up():
    live = board()
    live.apply([ringing(), ringing("1.2", at=TUESDAY_10AM + timedelta(seconds=1))])
    now = TUESDAY_10AM + timedelta(seconds=3.5)
    next_ring = live.next_ring_at(now)
    assert next_ring == TUESDAY_10AM + timedelta(seconds=4, microseconds=1)
    assert live.rings_now(live.ringing[("lab", "1.2")], next_ring) == 2


def test_an_answer_leaves_ringing_and_shows_its_rings():
    live = board()
    live.apply([ringing(), answered(seconds=8.0)])
    assert live.ringing == {}
    assert [(call.call_id, call.rings, call.answered_by) for call in live.recent] == [
        ("1.1", 3, "person")
    ]
    record = call_record(call_id="1.1", pbx="lab", rings=3, outcome=CallOutcome.ANSWERED)
    live.apply([CallEnded(record)])
    assert [(call.call_id, call.outcome) for call in live.recent] == [("1.1", "answered")]


def test_the_longest_wait_is_per_department():
    live = board()
    live.apply([ringing("1.1"), ringing("1.2", at=TUESDAY_10AM + timedelta(seconds=5))])
    live.apply([ringing("1.3", "Council Tax", at=TUESDAY_10AM + timedelta(seconds=9))])
    now = TUESDAY_10AM + timedelta(seconds=10)
    panels = {panel["department"]: panel for panel in today_view(live, now)}
    assert (panels["Housing"]["ringing"], panels["Housing"]["longest_wait_seconds"]) == (2, 10.0)
    assert panels["Housing"]["longest_wait_rings"] == 4
    assert panels["Council Tax"]["longest_wait_seconds"] == 1.0


def test_owed_obligations_stay_and_closed_ones_leave_saying_how():
    live = board()
    live.apply([ObligationChanged(obligation("2.1")), ObligationChanged(obligation("2.2"))])
    live.apply([ObligationChanged(obligation("2.1", CallbackStatus.OVERDUE))])
    assert live.owed[("lab", "2.1")].status is CallbackStatus.OVERDUE
    closed = obligation("2.1", CallbackStatus.CALLED_BACK, connected=False)
    live.apply([ObligationChanged(closed)])
    live.apply([ObligationChanged(obligation("2.2", CallbackStatus.CALLER_GOT_THROUGH))])
    assert live.owed == {}
    assert [left.how for left in live.left] == ["caller got through", "called back, not connected"]


def test_a_heartbeat_is_kept_but_changes_nothing_shown():
    live = board()
    version = live.version
    assert not live.apply([ListenerHeartbeat("lab", TUESDAY_10AM)])
    assert (live.seen_until, live.version) == (TUESDAY_10AM, version)
    health = health_view(ListenerHealth(), live, TUESDAY_10AM)
    assert health["pbx_seen_until"] == TUESDAY_10AM.isoformat()


def test_seeding_restores_the_owed_list_and_what_callers_met():
    live = board()
    missed = call_record(call_id="2.1", pbx="lab", outcome=CallOutcome.BUSY, rings=None)
    live.seed([obligation("2.1"), obligation("2.9", CallbackStatus.CALLED_BACK)], [missed])
    assert list(live.owed) == [("lab", "2.1")]
    assert live.missed[("lab", "2.1")].outcome is CallOutcome.BUSY


def test_health_counts_never_go_backwards_and_figures_not_whole_say_why():
    class Stats:
        pbx = "lab"
        connected_since = TUESDAY_10AM
        last_event_at = TUESDAY_10AM
        clock_offset_seconds = 0.25
        anomalies = {"unknown_linkedid": 3}
        oversize_frames = 1
        write_errors = 2

    stats = Stats()
    health = ListenerHealth(stats)  # type: ignore[arg-type]
    live = board()
    now = TUESDAY_10AM + timedelta(seconds=4)
    first = health_view(health, live, now)
    assert (first["anomalies"], first["last_event_age_seconds"], first["figures_whole"]) == (
        3, 4.0, True,
    )  # fmt: skip
    stats.anomalies = {}
    stats.connected_since = None
    day = DepartmentDay("Housing", {"incomplete": 2}, None)
    live.set_day_figures({"Housing": day}, gaps_today=1)
    second = health_view(health, live, now)
    assert second["anomalies"] == 3
    assert second["not_whole_because"] == [
        "listener not connected", "1 coverage gaps today", "2 calls not fully seen today",
    ]  # fmt: skip


def test_the_snapshot_holds_no_caller_number_unless_configured():
    live = board()
    missed = call_record(call_id="2.1", pbx="lab", caller=CALLER, outcome=CallOutcome.ABANDONED)
    live.apply([ringing(), CallEnded(replace(missed, rings=4)), ObligationChanged(obligation())])
    masked = str(snapshot(live, ListenerHealth(), TUESDAY_10AM, show_numbers=False))
    assert CALLER not in masked and "+44 1382 ••• 131" in masked
    assert CALLER in str(snapshot(live, ListenerHealth(), TUESDAY_10AM, show_numbers=True))


def test_a_ring_start_ahead_of_our_clock_counts_no_wait():
    live = board()
    live.apply([ringing(at=TUESDAY_10AM + timedelta(milliseconds=2))])
    [row] = ringing_view(live, TUESDAY_10AM)
    assert (row["rings"], row["ring_seconds"]) == (0, 0.0)
    panels = {panel["department"]: panel for panel in today_view(live, TUESDAY_10AM)}
    assert panels["Housing"]["longest_wait_seconds"] == 0.0


def test_with_two_pbxs_the_health_names_the_one_whose_listener_is_not_connected():
    class Stats:
        def __init__(self, pbx: str, connected: bool) -> None:
            self.pbx = pbx
            self.connected_since = TUESDAY_10AM if connected else None
            self.last_event_at = TUESDAY_10AM
            self.clock_offset_seconds = -1.5 if pbx == "south" else 0.1
            self.anomalies = {"unknown_linkedid": 1}
            self.oversize_frames = 0
            self.write_errors = 0

    health = ListenerHealth(Stats("north", True), Stats("south", False))  # type: ignore[arg-type]
    view = health_view(health, board(), TUESDAY_10AM + timedelta(seconds=2))
    assert [(pbx["pbx"], pbx["connected"]) for pbx in view["pbxs"]] == [
        ("north", True),
        ("south", False),
    ]
    assert (view["connected"], view["clock_offset_seconds"], view["anomalies"]) == (False, -1.5, 2)
    assert view["not_whole_because"] == ["listener not connected to south"]


def test_what_callers_met_is_kept_for_every_owed_call_and_only_the_recent_others():
    live = board()
    for index in range(200):
        missed = index % 4 == 0
        outcome = CallOutcome.ABANDONED if missed else CallOutcome.ANSWERED
        changes: list = [CallEnded(call_record(call_id=f"9.{index}", pbx="lab", outcome=outcome))]
        if missed:
            changes.append(ObligationChanged(obligation(f"9.{index}")))
        live.apply(changes)
    owed = set(live.owed)
    assert len(owed) == 50 and owed <= set(live.missed)
    answered = [("lab", f"9.{index}") for index in range(200) if index % 4]
    assert [key for key in live.missed if key not in owed] == answered[-RECENT_CALLS_KEPT:]
