"""Contract: the database sums calls and obligations per bucket exactly as defined."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ringtest.core.records import AnsweredBy, CallbackStatus, CallOutcome, CallRecord
from ringtest.store import Store
from ringtest.store.aggregates import (
    CALL_SUM_COLUMNS,
    OBLIGATION_SUM_COLUMNS,
    Buckets,
    call_sums,
    obligation_sums,
)
from tests.store.builders import MONDAY_9AM, call_record, obligation

HOUR = Buckets(origin=int(MONDAY_9AM.timestamp()), width=3600)
SINCE, UNTIL = MONDAY_9AM, MONDAY_9AM + timedelta(hours=3)
AFTER_EVERY_DEADLINE = MONDAY_9AM + timedelta(days=30)


def live(n: int, minutes: float, **overrides) -> CallRecord:
    """A live call n that started `minutes` after Monday 09:00 UTC."""
    fields = {
        "call_id": f"{n}.1",
        "is_test_call": False,
        "started_at": MONDAY_9AM + timedelta(minutes=minutes),
    }
    return call_record(**(fields | overrides))


def calls_by_key(store: Store, **options) -> dict[tuple, dict[str, int]]:
    rows = [
        row for chunk in call_sums(store, SINCE, UNTIL, HOUR, 7, 5.0, **options) for row in chunk
    ]
    return {tuple(row[:4]): dict(zip(CALL_SUM_COLUMNS[4:], row[4:], strict=True)) for row in rows}


def test_calls_are_summed_per_bucket_line_and_rings_heard_by_a_person(store: Store):
    abandoned = dict(
        answered_by=AnsweredBy.NONE,
        answered_at=None,
        within_standard=False,
        outcome=CallOutcome.ABANDONED,
    )
    store.save_calls(
        [
            live(1, 0, rings=2),
            live(2, 59.99, rings=2),
            live(3, 30, rings=8, within_standard=False),
            live(4, 60, rings=2),  # the next hour
            live(5, 10, **abandoned, rings=3, ring_seconds=4.9),  # short, within T rings
            live(6, 20, **abandoned, rings=9, ring_seconds=26.0),
            live(7, 25, **abandoned, rings=None, ring_seconds=None),  # unknown: 0 rings, 0 s
            live(8, 5, rings=2, is_test_call=True),  # a ring test: left out
            live(9, 180, rings=2),  # at UNTIL: left out
            live(10, -0.01, rings=2),  # before SINCE: left out
        ]
    )
    sums = calls_by_key(store)
    assert set(sums) == {
        (0, "reception", "switchboard", 2),
        (0, "reception", "switchboard", 8),
        (0, "reception", "switchboard", None),
        (1, "reception", "switchboard", 2),
    }
    assert sums[(0, "reception", "switchboard", 2)] == {
        "offered": 2,
        "answered_by_person": 2,
        "within_standard": 2,
        "abandoned": 0,
        "voicemail": 0,
        "busy": 0,
        "failed": 0,
        "incomplete": 0,
        "abandoned_within_standard": 0,
        "short_abandons": 0,
        "answered_by_ivr": 0,
        "ring_time_unknown": 0,
        "within_standard_uncertain": 0,
    }
    assert sums[(0, "reception", "switchboard", 8)]["within_standard"] == 0
    missed = sums[(0, "reception", "switchboard", None)]
    assert (missed["offered"], missed["answered_by_person"], missed["abandoned"]) == (3, 0, 3)
    assert (missed["abandoned_within_standard"], missed["short_abandons"]) == (2, 2)
    assert sums[(1, "reception", "switchboard", 2)]["offered"] == 1


def test_voicemail_has_no_person_rings_and_departments_filter(store: Store):
    store.save_calls(
        [
            live(
                1,
                0,
                answered_by=AnsweredBy.VOICEMAIL,
                outcome=CallOutcome.VOICEMAIL,
                rings=4,
                within_standard=False,
            ),
            live(2, 0, department="housing", rings=1),
        ]
    )
    assert calls_by_key(store, department="reception") == {
        (0, "reception", "switchboard", None): {
            "offered": 1,
            "answered_by_person": 0,
            "within_standard": 0,
            "abandoned": 0,
            "voicemail": 1,
            "busy": 0,
            "failed": 0,
            "incomplete": 0,
            "abandoned_within_standard": 0,
            "short_abandons": 0,
            "answered_by_ivr": 0,
            "ring_time_unknown": 0,
            "within_standard_uncertain": 0,
        }
    }


CDR = "imported from Asterisk CDR Master.csv, line 2, whole seconds"
NOT_IN_CDR = f"{CDR}, ring time not in the CDR"


def test_history_marks_count_unknown_ring_times_apart_and_near_misses_as_uncertain(
    store: Store,
):
    """GB ringing, 7 rings: 21 s is the last instant within; a whole-second ring time
    strictly within 1 s of it (20 < r < 22) could be on either side."""
    unanswered = dict(answered_by=AnsweredBy.NONE, answered_at=None, within_standard=False)
    unknown = dict(ring_seconds=None, rings=None, ring_started_at=None, gap_note=NOT_IN_CDR)
    store.save_calls(
        [
            live(1, 0, ring_seconds=20.0, rings=7, gap_note=CDR),  # certain: at most 21 s
            live(2, 1, ring_seconds=21.0, rings=7, gap_note=CDR),  # uncertain
            live(3, 2, ring_seconds=21.5, rings=8, within_standard=False, gap_note=CDR),
            live(4, 3, ring_seconds=22.0, rings=8, within_standard=False, gap_note=CDR),
            live(5, 4, ring_seconds=21.0, rings=7),  # the listener's: exact, certain
            live(6, 5, **unknown, within_standard=False),  # person, ring time not in the CDR
            live(7, 6, **unanswered, outcome=CallOutcome.ABANDONED, **unknown),
            live(8, 7, **unanswered, outcome=CallOutcome.ABANDONED, ring_seconds=None, rings=None),
        ]
    )
    sums = calls_by_key(store, uncertain_ring_seconds=(20.0, 22.0))
    total = {
        name: sum(row[name] for row in sums.values())
        for name in ("offered", "within_standard", "within_standard_uncertain")
    }
    assert total == {"offered": 8, "within_standard": 3, "within_standard_uncertain": 2}
    assert sums[(0, "reception", "switchboard", 8)]["within_standard_uncertain"] == 1
    missed = sums[(0, "reception", "switchboard", None)]
    assert missed["ring_time_unknown"] == 2
    assert (missed["abandoned"], missed["abandoned_within_standard"]) == (2, 1)
    assert missed["short_abandons"] == 1
    assert sum(row["within_standard_uncertain"] for row in calls_by_key(store).values()) == 0


@pytest.mark.parametrize("chunk_rows", [1, 1000])
def test_obligations_are_bucketed_by_their_calls_start_with_latencies_to_the_minute(
    store: Store, chunk_rows: int
):
    store.save_calls([live(1, 50), live(2, 70)])
    for owed in (
        obligation(call_id="1.1", missed_at=MONDAY_9AM + timedelta(minutes=65)),  # call: hour 0
        obligation(call_id="2.1", closed_at=MONDAY_9AM + timedelta(hours=5)),  # late: hour 1
        obligation(
            call_id="gone.1", missed_at=MONDAY_9AM + timedelta(minutes=90), working_seconds=89.0
        ),  # no call stored: its miss, hour 1; latency 89 s is summed as one minute
        obligation(
            call_id="3.1",
            status=CallbackStatus.OPEN,
            closed_at=None,
            working_seconds=None,
            missed_at=MONDAY_9AM + timedelta(minutes=91),
        ),
        obligation(
            call_id="4.1",
            status=CallbackStatus.CALLER_GOT_THROUGH,
            missed_at=MONDAY_9AM + timedelta(minutes=92),
        ),  # latency not counted
        obligation(call_id="5.1", missed_at=MONDAY_9AM - timedelta(minutes=1)),  # before SINCE
    ):
        store.save_obligation(owed)
    chunks = list(
        obligation_sums(store, SINCE, UNTIL, HOUR, AFTER_EVERY_DEADLINE, chunk_rows=chunk_rows)
    )
    rows = sorted((row for chunk in chunks for row in chunk), key=repr)
    assert all(len(chunk) <= chunk_rows for chunk in chunks)
    assert [dict(zip(OBLIGATION_SUM_COLUMNS, row, strict=True)) for row in rows] == sorted(
        [
            dict(
                bucket=0,
                department="reception",
                line="switchboard",
                status="called_back",
                callback_state="returned_in_time",
                working_seconds=3600.0,
                obligations=1,
            ),
            dict(
                bucket=1,
                department="reception",
                line="switchboard",
                status="called_back",
                callback_state="late_or_never",
                working_seconds=3600.0,
                obligations=1,
            ),
            dict(
                bucket=1,
                department="reception",
                line="switchboard",
                status="called_back",
                callback_state="returned_in_time",
                working_seconds=60.0,
                obligations=1,
            ),
            dict(
                bucket=1,
                department="reception",
                line="switchboard",
                status="open",
                callback_state="late_or_never",
                working_seconds=None,
                obligations=1,
            ),
            dict(
                bucket=1,
                department="reception",
                line="switchboard",
                status="caller_got_through",
                callback_state="late_or_never",
                working_seconds=None,
                obligations=1,
            ),
        ],
        key=lambda row: repr(tuple(row.values())),
    )
